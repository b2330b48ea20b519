// Sends email: over SMTP when SMTP_URL is set, otherwise into a folder as one .eml file per
// message (open it in any mail client), so local development needs no mail server.
import { randomBytes } from "node:crypto";
import { link, mkdir, unlink, writeFile } from "node:fs/promises";
import path from "node:path";
import nodemailer from "nodemailer";

export interface MailMessage {
  to: string;
  subject: string;
  html: string;
  text: string;
  /** Stable across re-sends of the same event, so mail clients can drop the duplicate. */
  messageId?: string;
  /** Names the file in folder mode, e.g. "order-100001". */
  label: string;
}

export interface Mailer {
  /** Where mail goes, for logs: "smtp://host:port" or the folder. */
  readonly destination: string;
  send(message: MailMessage): Promise<void>;
  close(): void;
}

export interface MailerOptions {
  smtpUrl?: string;
  from: string;
  folder: string;
}

function smtpOptions(smtpUrl: string) {
  const url = new URL(smtpUrl);
  const secure = url.protocol === "smtps:";
  return {
    host: url.hostname,
    port: url.port ? Number(url.port) : secure ? 465 : 587,
    secure,
    auth: url.username ? { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } : undefined,
    // Bounded so a stuck mail server cannot hold a delivery past the dispatcher's lease.
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 20_000,
  };
}

function fileSafe(value: string): string {
  return value.replace(/[^\w.-]+/g, "_").slice(0, 80);
}

export function createMailer(options: MailerOptions): Mailer {
  const envelope = (message: MailMessage) => ({
    from: options.from,
    to: message.to,
    subject: message.subject,
    text: message.text,
    html: message.html,
    messageId: message.messageId,
  });

  if (options.smtpUrl) {
    const transport = nodemailer.createTransport(smtpOptions(options.smtpUrl));
    const url = new URL(options.smtpUrl);
    return {
      destination: `${url.protocol}//${url.host}`,
      async send(message) {
        await transport.sendMail(envelope(message));
      },
      close: () => transport.close(),
    };
  }

  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: "unix" });
  return {
    destination: options.folder,
    async send(message) {
      const info = await transport.sendMail(envelope(message));
      await mkdir(options.folder, { recursive: true });
      const base = path.join(options.folder, `${new Date().toISOString().replace(/[:.]/g, "-")}-${fileSafe(message.label)}`);
      const partial = `${base}.${randomBytes(4).toString("hex")}.partial`;
      await writeFile(partial, info.message as Buffer);
      // Linked into place whole (a reader never sees half a message) and never over another message.
      try {
        for (let copy = 1; ; copy++) {
          try {
            await link(partial, copy === 1 ? `${base}.eml` : `${base}-${copy}.eml`);
            return;
          } catch (error) {
            if ((error as NodeJS.ErrnoException).code !== "EEXIST" || copy >= 100) throw error;
          }
        }
      } finally {
        await unlink(partial);
      }
    },
    close: () => transport.close(),
  };
}
