// A local SMTP server for tests (EHLO, AUTH PLAIN/LOGIN, MAIL, RCPT, DATA, QUIT; no TLS) that keeps every message with
// the login it came under. By default it stands in for Amazon SES's SMTP endpoint and refuses mail before AUTH, so a
// test sees the credentials the mailer presented; `requireAuth: false` makes it a plain relay for a mailer with none.
import net from "node:net";

export interface ReceivedMessage {
  from: string;
  to: string[];
  data: string;
  /** Who authenticated on the connection that sent it (null: nobody). */
  login: { user: string; password: string } | null;
}

export interface SmtpServer {
  port: number;
  /** smtp://127.0.0.1:<port>, no credentials. */
  url: string;
  messages: ReceivedMessage[];
  close(): Promise<void>;
}

const decode = (base64: string) => Buffer.from(base64, "base64").toString("utf8");

/** Listens on 127.0.0.1 (a free port). Mail is refused (530) before AUTH, as SES refuses it, unless `requireAuth` is false. */
export async function startSmtpServer(options: { requireAuth?: boolean } = {}): Promise<SmtpServer> {
  const requireAuth = options.requireAuth ?? true;
  const messages: ReceivedMessage[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    let buffer = "";
    let state: "command" | "data" | "login-user" | "login-password" = "command";
    let login: ReceivedMessage["login"] = null;
    let pendingUser = "";
    let current: Omit<ReceivedMessage, "login"> = { from: "", to: [], data: "" };
    const reply = (line: string) => socket.write(`${line}\r\n`);
    reply("220 local-smtp ESMTP ready");
    socket.on("data", (chunk: Buffer) => {
      buffer += chunk.toString("utf8");
      for (;;) {
        if (state === "data") {
          const end = buffer.indexOf("\r\n.\r\n");
          if (end === -1) return;
          current.data = buffer.slice(0, end).replace(/^\.\./gm, ".");
          buffer = buffer.slice(end + 5);
          messages.push({ ...current, login });
          current = { from: "", to: [], data: "" };
          state = "command";
          reply("250 2.0.0 queued");
          continue;
        }
        const newline = buffer.indexOf("\r\n");
        if (newline === -1) return;
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 2);
        if (state === "login-user") {
          pendingUser = decode(line);
          state = "login-password";
          reply(`334 ${Buffer.from("Password:").toString("base64")}`);
          continue;
        }
        if (state === "login-password") {
          login = { user: pendingUser, password: decode(line) };
          state = "command";
          reply("235 2.7.0 authenticated");
          continue;
        }
        const [verb = "", ...rest] = line.split(" ");
        switch (verb.toUpperCase()) {
          case "EHLO":
            reply("250-local-smtp");
            reply("250 AUTH PLAIN LOGIN");
            break;
          case "HELO":
            reply("250 local-smtp");
            break;
          case "AUTH": {
            const [mechanism = "", initial] = rest;
            if (mechanism.toUpperCase() === "PLAIN" && initial) {
              const [, user = "", password = ""] = decode(initial).split("\0");
              login = { user, password };
              reply("235 2.7.0 authenticated");
            } else if (mechanism.toUpperCase() === "LOGIN") {
              state = "login-user";
              reply(`334 ${Buffer.from("Username:").toString("base64")}`);
            } else reply("504 5.5.4 unrecognised authentication type");
            break;
          }
          case "MAIL":
            if (requireAuth && !login) {
              reply("530 5.7.0 authentication required");
              break;
            }
            current.from = /<([^>]*)>/.exec(line)?.[1] ?? "";
            reply("250 2.1.0 ok");
            break;
          case "RCPT":
            current.to.push(/<([^>]*)>/.exec(line)?.[1] ?? "");
            reply("250 2.1.5 ok");
            break;
          case "DATA":
            state = "data";
            reply("354 end with <CRLF>.<CRLF>");
            break;
          case "RSET":
          case "NOOP":
            reply("250 2.0.0 ok");
            break;
          case "QUIT":
            socket.end("221 2.0.0 bye\r\n");
            return;
          default:
            reply("502 5.5.2 not implemented");
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    url: `smtp://127.0.0.1:${port}`,
    messages,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
