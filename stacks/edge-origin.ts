// How CloudFront proves to the API's load balancer that a request came through it, and tells it who the viewer is:
// the names both sides agree on, the origin secret's name, the viewer-IP function and CloudFront's prefix lists.

/** CloudFront adds this header, holding the stage's origin secret, to every request it sends the ALB; the WAF blocks any request without it. */
export const ORIGIN_VERIFY_HEADER = "X-Origin-Verify";

/** CloudFront's own `ip:port` of the viewer (IPv6 unbracketed), overwriting any a client sent: the API's shopper address. */
export const VIEWER_ADDRESS_HEADER = "CloudFront-Viewer-Address";

/**
 * The viewer's address without the port, set by VIEWER_IP_FUNCTION over anything the client sent: the key of the WAF
 * rate rule. (CloudFront-Viewer-Address carries the source port, which changes with every connection, so counting by
 * its value would give each new connection a fresh allowance.) An IPv6 viewer is counted by its /64.
 */
export const RATE_KEY_HEADER = "X-Viewer-Ip";

/** The origin secret's generation for stages that never rotated it (StageConfig.originSecretGeneration). */
export const FIRST_ORIGIN_SECRET_GENERATION = 1;

/** The Secrets Manager name of one generation of a stage's origin secret; CloudFront and the WAF resolve it by name at deploy time. */
export function originSecretName(stage: string, generation: number): string {
  if (!Number.isInteger(generation) || generation < 1) throw new Error(`origin secret generation must be a whole number from 1, got ${generation}`);
  return `checkout/${stage}/origin-verify-${generation}`;
}

/** The generations the WAF accepts: the one CloudFront sends after this deploy and the one it sent before (rotation without a gap). */
export function acceptedOriginSecretGenerations(generation: number): number[] {
  return generation > FIRST_ORIGIN_SECRET_GENERATION ? [generation, generation - 1] : [generation];
}

/** A CloudFront Functions (JS 2.0) viewer-request handler that writes RATE_KEY_HEADER from the viewer's address. */
export const VIEWER_IP_FUNCTION = `function rateKeyOf(ip) {
  if (ip.indexOf(":") === -1) return ip;
  var dotted = ip.lastIndexOf(".");
  if (dotted !== -1) return ip.slice(ip.lastIndexOf(":") + 1);
  var halves = ip.split("::");
  var head = halves[0] ? halves[0].split(":") : [];
  var tail = halves.length > 1 && halves[1] ? halves[1].split(":") : [];
  var groups = head.slice();
  if (halves.length > 1) {
    for (var i = head.length + tail.length; i < 8; i++) groups.push("0");
    groups = groups.concat(tail);
  }
  return groups.slice(0, 4).join(":") + "::";
}
function handler(event) {
  var request = event.request;
  request.headers["${RATE_KEY_HEADER.toLowerCase()}"] = { value: rateKeyOf(event.viewer.ip) };
  return request;
}`;

/**
 * The id of the AWS-managed prefix list `com.amazonaws.global.cloudfront.origin-facing` in each region a stage runs
 * in. AWS keeps one per region under a fixed id; check a new region's with
 * `aws ec2 describe-managed-prefix-lists --region <region> --filters Name=prefix-list-name,Values=com.amazonaws.global.cloudfront.origin-facing`.
 * A static map keeps synthesis offline (a lookup would need AWS credentials at synth; a custom resource, a Lambda
 * function in every stage for a constant).
 */
export const CLOUDFRONT_ORIGIN_FACING_PREFIX_LISTS: Readonly<Record<string, string>> = {
  "us-east-1": "pl-3b927c52",
  "eu-west-1": "pl-4fa04526",
  "ap-southeast-1": "pl-31a34658",
};

export function cloudFrontPrefixListId(region: string): string {
  const id = CLOUDFRONT_ORIGIN_FACING_PREFIX_LISTS[region];
  if (!id) throw new Error(`no CloudFront origin-facing prefix list id for ${region}: add it to CLOUDFRONT_ORIGIN_FACING_PREFIX_LISTS in stacks/edge-origin.ts`);
  return id;
}
