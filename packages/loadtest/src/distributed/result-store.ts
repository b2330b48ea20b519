// Where a distributed run's job and results live, shared by the coordinator and every generator: a local folder (for
// `--on local`) or an S3 prefix (for generators that run elsewhere). Keys are paths relative to the store's root, with
// `/` between parts; each write replaces the whole object at once, so a reader never sees half a file.
import type { Dirent } from "node:fs";
import { mkdir, readdir, readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { StoreUrlError } from "./config-errors.ts";
import { GetObjectCommand, ListObjectsV2Command, NoSuchKey, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";

export interface ResultStore {
  /** The store's address as generators are given it: an absolute folder path, or s3://bucket/prefix. */
  readonly url: string;
  /** The object's text, or undefined when there is none. */
  read(key: string): Promise<string | undefined>;
  write(key: string, text: string): Promise<void>;
  /** Every key under `prefix` (a folder, ending in `/`), in no particular order. */
  list(prefix: string): Promise<string[]>;
  /** Lets go of connections, so a process done with the store can exit at once. */
  close(): void;
}

export { StoreUrlError };

export interface S3StoreOptions {
  /** An S3-compatible endpoint, addressed path-style; default AWS_ENDPOINT_URL_S3, else AWS's own. */
  endpoint?: string;
  /** Default AWS_REGION, else us-east-1 (requests to a bucket elsewhere follow S3's redirect). */
  region?: string;
  /** Keys asked for per listing request; default S3's (1000). */
  listPageSize?: number;
}

/** Opens the store at `url`: `s3://bucket/prefix`, a folder path, or a file:// URL of a folder. */
export function openResultStore(url: string, options: S3StoreOptions = {}): ResultStore {
  if (url.startsWith("s3://")) return new S3ResultStore(url, options);
  if (url.startsWith("file://")) return new FolderResultStore(fileURLToPath(url));
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) throw new StoreUrlError(`unsupported store "${url}": give a folder path or s3://bucket/prefix`);
  if (url.trim() === "") throw new StoreUrlError("the store is empty: give a folder path or s3://bucket/prefix");
  return new FolderResultStore(url);
}

function checkKey(key: string): void {
  if (key === "" || key.startsWith("/") || key.split("/").some((part) => part === ".." || part === ".")) {
    throw new Error(`not a store key: "${key}"`);
  }
}

/** A folder on this machine; writes go to a temporary file first and are renamed into place. */
export class FolderResultStore implements ResultStore {
  readonly url: string;
  private writes = 0;

  constructor(folder: string) {
    this.url = path.resolve(folder);
  }

  async read(key: string): Promise<string | undefined> {
    checkKey(key);
    try {
      return await readFile(path.join(this.url, key), "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw error;
    }
  }

  async write(key: string, text: string): Promise<void> {
    checkKey(key);
    const file = path.join(this.url, key);
    await mkdir(path.dirname(file), { recursive: true });
    const temporary = `${file}.${process.pid}.${++this.writes}.partial`;
    await writeFile(temporary, text);
    await rename(temporary, file);
  }

  async list(prefix: string): Promise<string[]> {
    checkKey(prefix);
    const folder = path.join(this.url, prefix);
    let entries: Dirent[];
    try {
      entries = await readdir(folder, { recursive: true, withFileTypes: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw error;
    }
    const base = prefix.replace(/\/?$/, "/");
    return entries
      .filter((entry) => entry.isFile() && !entry.name.endsWith(".partial"))
      .map((entry) => base + path.relative(folder, path.join(entry.parentPath, entry.name)).split(path.sep).join("/"));
  }

  close(): void {}
}

/** An S3 bucket and prefix; one object per key. */
export class S3ResultStore implements ResultStore {
  readonly url: string;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly client: S3Client;
  private readonly listPageSize: number | undefined;

  constructor(url: string, options: S3StoreOptions = {}) {
    const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(url);
    if (!match) throw new StoreUrlError(`"${url}" is not s3://bucket/prefix (a bucket name is 3-63 lower-case letters, digits, dots and hyphens)`);
    this.bucket = match[1] ?? "";
    const prefix = (match[2] ?? "").replace(/^\/+|\/+$/g, "");
    this.prefix = prefix === "" ? "" : `${prefix}/`;
    this.url = `s3://${this.bucket}${prefix === "" ? "" : `/${prefix}`}`;
    this.listPageSize = options.listPageSize;
    const endpoint = options.endpoint ?? process.env.AWS_ENDPOINT_URL_S3;
    this.client = new S3Client({
      region: options.region ?? process.env.AWS_REGION ?? "us-east-1",
      followRegionRedirects: true,
      ...(endpoint ? { endpoint, forcePathStyle: true } : {}),
    });
  }

  async read(key: string): Promise<string | undefined> {
    checkKey(key);
    try {
      const answer = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.prefix + key }));
      return (await answer.Body?.transformToString("utf8")) ?? "";
    } catch (error) {
      if (error instanceof NoSuchKey || (error as { name?: string }).name === "NoSuchKey") return undefined;
      throw error;
    }
  }

  async write(key: string, text: string): Promise<void> {
    checkKey(key);
    await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: this.prefix + key, Body: text, ContentType: "application/json" }));
  }

  async list(prefix: string): Promise<string[]> {
    checkKey(prefix);
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.prefix + prefix, ContinuationToken: token, MaxKeys: this.listPageSize }));
      for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key.slice(this.prefix.length));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return keys;
  }

  close(): void {
    this.client.destroy();
  }
}
