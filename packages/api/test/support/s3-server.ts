// A real S3 API for tests: s3rver (from npm) on a free port with the given buckets, behind a small recording proxy so a
// test can see the headers the AWS SDK sent (S3's Object Lock needs an integrity checksum on every PutObject).
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import S3rver from "s3rver";

/** s3rver's fixed credentials: it checks every request's SigV4 signature against them. */
export const S3RVER_CREDENTIALS = { AWS_ACCESS_KEY_ID: "S3RVER", AWS_SECRET_ACCESS_KEY: "S3RVER" } as const;

export interface RecordedRequest {
  method: string;
  /** Path and query, as sent (path-style: /<bucket>/<key>). */
  url: string;
  headers: http.IncomingHttpHeaders;
}

export interface TestS3Server {
  /** Path-style endpoint for AUDIT_ANCHOR_ENDPOINT. */
  endpoint: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

export async function startS3Server(options: { buckets: string[] }): Promise<TestS3Server> {
  const directory = mkdtempSync(path.join(os.tmpdir(), "checkout-s3rver-"));
  const s3 = new S3rver({ address: "127.0.0.1", port: 0, silent: true, directory, configureBuckets: options.buckets.map((name) => ({ name })) });
  const { port: s3Port } = await s3.run();
  const requests: RecordedRequest[] = [];
  const proxy = http.createServer((req, res) => {
    requests.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers });
    const upstream = http.request({ host: "127.0.0.1", port: s3Port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on("error", () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  return {
    endpoint: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
    requests,
    async close() {
      proxy.closeAllConnections();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
      await s3.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
