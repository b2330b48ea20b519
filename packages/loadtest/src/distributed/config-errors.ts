// The distributed run's configuration errors, in a module of their own: the CLI tells them apart from a crash without
// loading the AWS SDKs the launcher and the S3 store need (a bare --help stays quick).

/** Missing or malformed configuration: the message names what and where. */
export class FargateConfigError extends Error {
  override readonly name = "FargateConfigError";
}

/** A store address that is neither a folder nor s3://bucket[/prefix]. */
export class StoreUrlError extends Error {
  override readonly name = "StoreUrlError";
}
