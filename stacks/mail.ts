// Mail in AWS: the stage's web domain as an Amazon SES sending identity (Easy DKIM), and the operator-created SMTP
// secret the API reads SMTP_URL from (Amazon SES's SMTP interface over TLS on 465; docs/DEPLOY.md creates it).
import { CfnOutput, type Stack } from "aws-cdk-lib";
import * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import * as ses from "aws-cdk-lib/aws-ses";
import { mailFrom, smtpSecretName } from "./api-task-contract.ts";

export interface Mail {
  identity: ses.EmailIdentity;
  /** MAIL_FROM: orders@<domain.web>, an address of the verified identity. */
  from: string;
  /** The operator's secret, by name (its ARN ends in a random suffix Secrets Manager adds). */
  smtpSecret: secretsmanager.ISecret;
}

export function createMail(stack: Stack, options: { stage: string; webDomain: string }): Mail {
  // No hosted zone is in the stage config, so SES cannot publish the DKIM records itself: the three CNAMEs are stack
  // outputs for whoever runs the domain's DNS. SES sends nothing from the domain until they resolve.
  const identity = new ses.EmailIdentity(stack, "MailIdentity", { identity: ses.Identity.domain(options.webDomain) });
  identity.dkimRecords.forEach((record, index) => {
    new CfnOutput(stack, `MailDkimRecord${index + 1}`, {
      description: `SES DKIM CNAME ${index + 1} of 3 for ${options.webDomain}: name = value`,
      value: `${record.name} = ${record.value}`,
    });
  });
  const smtpSecret = secretsmanager.Secret.fromSecretNameV2(stack, "SmtpSecret", smtpSecretName(options.stage));
  return { identity, from: mailFrom(options.webDomain), smtpSecret };
}
