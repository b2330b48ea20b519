// The secrets the API task reads, and which variable of which container each one becomes: the database's owner
// (migrate only) and service role, the payment processor's settings, the metrics token, the admin tokens and SMTP.
import { RemovalPolicy, type Stack } from "aws-cdk-lib";
import * as ecs from "aws-cdk-lib/aws-ecs";
import type * as kms from "aws-cdk-lib/aws-kms";
import * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import { createAdminTokens, type AdminTokens } from "./admin-tokens.ts";
import { ADMIN_TOKENS, paymentSecretName, SMTP_SECRET_KEY } from "./api-task-contract.ts";
import { METRICS_PATH } from "./api-waf.ts";
import type { Database } from "./Database.ts";

export interface TaskSecrets {
  /** The bearer token the API asks for on /metrics (generated here, given to the task as METRICS_TOKEN). */
  metricsToken: secretsmanager.Secret;
  adminTokens: AdminTokens;
  /** What the containers read: views by ARN, without the KMS key (see createTaskSecrets). */
  views: {
    payment: secretsmanager.ISecret;
    owner: secretsmanager.ISecret;
    serviceRole: secretsmanager.ISecret;
    metricsToken: secretsmanager.ISecret;
    adminTokens: secretsmanager.ISecret;
  };
}

export function createTaskSecrets(stack: Stack, options: { stage: string; key: kms.IKey; database: ReturnType<typeof Database> }): TaskSecrets {
  const { stage, key, database } = options;
  const payment = secretsmanager.Secret.fromSecretNameV2(stack, "PaymentProviderSecret", paymentSecretName(stage));
  // The database secret by ARN, without its KMS key: CDK would otherwise grant decryption in the key's policy in the
  // Network stack, naming this stack's role there (a dependency cycle). The execution role gets kms:Decrypt itself
  // (stacks/api-service.ts).
  const owner = secretsmanager.Secret.fromSecretAttributes(stack, "DatabaseSecret", { secretCompleteArn: database.secret.secretArn });
  // Generated here, read by the task through a view without its key for the same reason as the database secret.
  const metricsToken = new secretsmanager.Secret(stack, "MetricsToken", {
    description: `checkout ${stage}: the bearer token the API asks for on ${METRICS_PATH}`,
    encryptionKey: key,
    generateSecretString: { passwordLength: 48, excludePunctuation: true },
    removalPolicy: RemovalPolicy.DESTROY,
  });
  const metricsTokenView = secretsmanager.Secret.fromSecretAttributes(stack, "MetricsTokenView", { secretCompleteArn: metricsToken.secretArn });
  // The API connects as the service role; only the migrate container gets the owner's (master) credentials.
  const serviceRole = secretsmanager.Secret.fromSecretAttributes(stack, "ServiceRoleSecretView", { secretCompleteArn: database.serviceRoleSecret.secretArn });
  const adminTokens = createAdminTokens(stack, { stage, key });
  const adminTokensView = secretsmanager.Secret.fromSecretAttributes(stack, "AdminApiTokensView", { secretCompleteArn: adminTokens.secret.secretArn });
  return { metricsToken, adminTokens, views: { payment, owner, serviceRole, metricsToken: metricsTokenView, adminTokens: adminTokensView } };
}

/** The API container's secrets: it connects to the database as the service role. */
export function appContainerSecrets({ views }: TaskSecrets, smtpSecret: secretsmanager.ISecret): Record<string, ecs.Secret> {
  return {
    DATABASE_USER: ecs.Secret.fromSecretsManager(views.serviceRole, "username"),
    DATABASE_PASSWORD: ecs.Secret.fromSecretsManager(views.serviceRole, "password"),
    SMTP_URL: ecs.Secret.fromSecretsManager(smtpSecret, SMTP_SECRET_KEY),
    ADMIN_API_TOKENS: ecs.Secret.fromSecretsManager(views.adminTokens, ADMIN_TOKENS.jsonKey),
    PAYMENT_PROVIDER_URL: ecs.Secret.fromSecretsManager(views.payment, "url"),
    PAYMENT_SECRET_KEY: ecs.Secret.fromSecretsManager(views.payment, "secretKey"),
    PAYMENT_WEBHOOK_SECRET: ecs.Secret.fromSecretsManager(views.payment, "webhookSecret"),
    METRICS_TOKEN: ecs.Secret.fromSecretsManager(views.metricsToken),
  };
}

/** The migrate container's secrets: the owner's credentials, and the service role's, whose grants it sets. */
export function migrateContainerSecrets({ views }: TaskSecrets): Record<string, ecs.Secret> {
  return {
    DATABASE_USER: ecs.Secret.fromSecretsManager(views.owner, "username"),
    DATABASE_PASSWORD: ecs.Secret.fromSecretsManager(views.owner, "password"),
    SERVICE_DATABASE_USER: ecs.Secret.fromSecretsManager(views.serviceRole, "username"),
    SERVICE_DATABASE_PASSWORD: ecs.Secret.fromSecretsManager(views.serviceRole, "password"),
  };
}
