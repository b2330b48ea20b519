// What differs between stages (dev, staging, prod and the prepared prod regions): one typed map, read by every stack.
// Deploying a new region is a new entry here, never a copied stack.

export interface StageConfig {
  stage: string;
  region: string;
  /** The shop's public domain (CloudFront) and the API origin's domain (ALB, HTTPS). */
  domain: { web: string; api: string };
  /** ACM certificate ARN for the ALB's HTTPS listener (in the stage's region). */
  apiCertificateArn: string;
  /** ACM certificate ARN for CloudFront's viewer HTTPS on domain.web: always in us-east-1, whatever the stage's region. */
  webCertificateArn: string;
  /** Public URL of the payment provider's hosted card field; its origin is the only one the checkout page may frame. */
  paymentFieldUrl: string;
  /** Where alarm notifications go. */
  alarmEmail: string;
  /** Production-grade settings: Multi-AZ, deletion protection, retention. */
  isProduction: boolean;
  /**
   * Which generation of the origin secret CloudFront sends the ALB (stacks/edge-origin.ts); 1 when unset. Raise it by
   * one to rotate the secret: the deploy creates the new one, the WAF accepts it and the previous one, CloudFront
   * switches (docs/DEPLOY.md).
   */
  originSecretGeneration?: number;
  /** The share of API requests traced to X-Ray, 0–1; unset: 5 % in production stages, all elsewhere (stacks/api-tracing.ts). */
  traceSampleRatio?: number;
}

const ACCOUNT_PLACEHOLDER = "123456789012";

function certificateArn(region: string, id: string): string {
  return `arn:aws:acm:${region}:${ACCOUNT_PLACEHOLDER}:certificate/${id}`;
}

export const stages: Record<string, StageConfig> = {
  dev: {
    stage: "dev",
    region: "us-east-1",
    domain: { web: "dev.shop.example.com", api: "api.dev.shop.example.com" },
    apiCertificateArn: certificateArn("us-east-1", "00000000-0000-0000-0000-000000000001"),
    webCertificateArn: certificateArn("us-east-1", "00000000-0000-0000-0000-000000000101"),
    paymentFieldUrl: "https://field.sandbox.payments.example.com",
    alarmEmail: "oncall-dev@example.com",
    isProduction: false,
  },
  staging: {
    stage: "staging",
    region: "us-east-1",
    domain: { web: "staging.shop.example.com", api: "api.staging.shop.example.com" },
    apiCertificateArn: certificateArn("us-east-1", "00000000-0000-0000-0000-000000000002"),
    webCertificateArn: certificateArn("us-east-1", "00000000-0000-0000-0000-000000000102"),
    paymentFieldUrl: "https://field.sandbox.payments.example.com",
    alarmEmail: "oncall-staging@example.com",
    isProduction: true,
  },
  prod: {
    stage: "prod",
    region: "us-east-1",
    domain: { web: "shop.example.com", api: "api.shop.example.com" },
    apiCertificateArn: certificateArn("us-east-1", "00000000-0000-0000-0000-000000000003"),
    webCertificateArn: certificateArn("us-east-1", "00000000-0000-0000-0000-000000000103"),
    paymentFieldUrl: "https://field.payments.example.com",
    alarmEmail: "oncall@example.com",
    isProduction: true,
  },
  "prod-eu": {
    stage: "prod-eu",
    region: "eu-west-1",
    domain: { web: "eu.shop.example.com", api: "api.eu.shop.example.com" },
    apiCertificateArn: certificateArn("eu-west-1", "00000000-0000-0000-0000-000000000004"),
    webCertificateArn: certificateArn("us-east-1", "00000000-0000-0000-0000-000000000104"),
    paymentFieldUrl: "https://field.payments.example.com",
    alarmEmail: "oncall@example.com",
    isProduction: true,
  },
  "prod-apac": {
    stage: "prod-apac",
    region: "ap-southeast-1",
    domain: { web: "apac.shop.example.com", api: "api.apac.shop.example.com" },
    apiCertificateArn: certificateArn("ap-southeast-1", "00000000-0000-0000-0000-000000000005"),
    webCertificateArn: certificateArn("us-east-1", "00000000-0000-0000-0000-000000000105"),
    paymentFieldUrl: "https://field.payments.example.com",
    alarmEmail: "oncall@example.com",
    isProduction: true,
  },
};

/** The configuration for a stage; personal and test stages borrow dev's settings under their own name. */
export function stageConfig(stage: string): StageConfig {
  const known = stages[stage];
  if (known) return known;
  const dev = stages.dev!;
  return { ...dev, stage, domain: { web: `${stage}.dev.shop.example.com`, api: `api.${stage}.dev.shop.example.com` } };
}
