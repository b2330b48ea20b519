// Answers that many callers share are serialised once. A procedure's result that is a frozen object (the catalogue
// cache's lists and products, frozen by the cache) cannot change, so its wire body is rendered, and compressed with
// brotli and gzip, the first time it is sent; the same bytes go to every later caller until the cache lets the object
// go. A caller gets the smallest encoding its Accept-Encoding allows.
//
// Anything not frozen is serialised per call and sent as it is: a frozen result is the procedure's promise that it is
// shared and immutable, and nothing else is trusted to be.
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import { acceptedEncodings, type ContentEncoding } from "./accept-encoding.ts";

export type { ContentEncoding };

export interface Body {
  body: string | Buffer;
  /** Set when the body is compressed. */
  encoding?: ContentEncoding;
}

export interface ReadyBodies {
  /** The success body `{"result":{"data":…}}` for `data`: ready bytes, in an encoding `acceptEncoding` allows, if `data` is frozen. */
  success(data: unknown, acceptEncoding: string | undefined): Body;
}

interface Ready {
  identity: Buffer;
  br: Buffer;
  gzip: Buffer;
}

/** Below this a compressed body saves too little to be worth a header (and brotli's framing can make it larger). */
const COMPRESS_FROM_BYTES = 512;

export function createReadyBodies(serialize: (value: unknown) => unknown): ReadyBodies {
  const bodies = new WeakMap<object, Ready>();
  const render = (data: unknown) => JSON.stringify({ result: { data: serialize(data) } });
  return {
    success(data, acceptEncoding) {
      if (typeof data !== "object" || data === null || !Object.isFrozen(data)) return { body: render(data) };
      let ready = bodies.get(data);
      if (!ready) {
        const identity = Buffer.from(render(data));
        ready = {
          identity,
          br: brotliCompressSync(identity, { params: { [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY, [constants.BROTLI_PARAM_SIZE_HINT]: identity.length } }),
          gzip: gzipSync(identity, { level: constants.Z_BEST_COMPRESSION }),
        };
        bodies.set(data, ready);
      }
      if (ready.identity.length >= COMPRESS_FROM_BYTES) {
        const accepted = acceptedEncodings(acceptEncoding);
        if (accepted.has("br")) return { body: ready.br, encoding: "br" };
        if (accepted.has("gzip")) return { body: ready.gzip, encoding: "gzip" };
      }
      return { body: ready.identity };
    },
  };
}
