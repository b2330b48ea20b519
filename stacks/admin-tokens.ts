// The admin API's bearer tokens (ADMIN_API_TOKENS: comma-separated name:token) as a generated secret. Secrets Manager
// generates a random string but cannot put a prefix before it, so the stack generates the token in one secret and
// composes `{"tokens":"ops:<token>"}` in the named secret with a CloudFormation dynamic reference: the value is
// resolved at deploy time and is in neither the template nor the cloud assembly.
import { RemovalPolicy, SecretValue, type Stack } from "aws-cdk-lib";
import type * as kms from "aws-cdk-lib/aws-kms";
import * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import { ADMIN_TOKENS, adminTokensSecretName } from "./api-task-contract.ts";

export interface AdminTokens {
  /** `checkout/<stage>/admin-api-tokens`, JSON key `tokens`: what the task's ADMIN_API_TOKENS comes from. */
  secret: secretsmanager.Secret;
  /** The generated token alone (JSON key `token`), which the named secret is composed from at deploy time. */
  generated: secretsmanager.Secret;
}

export function createAdminTokens(stack: Stack, options: { stage: string; key: kms.IKey }): AdminTokens {
  const generated = new secretsmanager.Secret(stack, "AdminApiTokenGenerated", {
    description: `checkout ${options.stage}: the generated token behind ${adminTokensSecretName(options.stage)} (read the named secret, not this one)`,
    encryptionKey: options.key,
    generateSecretString: {
      secretStringTemplate: JSON.stringify({ name: ADMIN_TOKENS.name }),
      generateStringKey: "token",
      passwordLength: ADMIN_TOKENS.tokenLength,
      // Letters and digits only: no comma or colon (the list's separators) and no space.
      excludePunctuation: true,
      includeSpace: false,
    },
    removalPolicy: RemovalPolicy.DESTROY,
  });
  const token = generated.secretValueFromJson("token").unsafeUnwrap();
  const secret = new secretsmanager.Secret(stack, "AdminApiTokens", {
    secretName: adminTokensSecretName(options.stage),
    description: `checkout ${options.stage}: ADMIN_API_TOKENS for the admin API (name:token pairs, comma-separated)`,
    encryptionKey: options.key,
    secretObjectValue: { [ADMIN_TOKENS.jsonKey]: SecretValue.unsafePlainText(`${ADMIN_TOKENS.name}:${token}`) },
    removalPolicy: RemovalPolicy.DESTROY,
  });
  return { secret, generated };
}
