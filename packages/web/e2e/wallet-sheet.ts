// The sandbox wallet's sheet in real Chromium. The browser opens it as a payment handler window, which is not a tab:
// Playwright's pages never include it, so tests reach it through the DevTools protocol (Target.* on the browser's
// session), run script in it, take its screenshot and run axe in it.
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { Browser, CDPSession } from "playwright-core";
import type { AxeViolation } from "./axe.ts";

const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

interface ProtocolAnswer {
  id: number;
  result?: { result?: { value?: unknown }; exceptionDetails?: unknown; data?: string };
  error?: { message: string };
}

const CLOSED = "the wallet's sheet has closed";
/** Longer than anything the sheet does when it is there; a question to a window that went away gets an error instead. */
const ANSWER_TIMEOUT_MS = 20_000;

export class WalletSheet {
  readonly #session: CDPSession;
  readonly #sessionId: string;
  readonly #pending = new Map<number, (answer: ProtocolAnswer) => void>();
  #nextId = 1;
  /** Set once the window has gone (paid, cancelled, Escape): nothing sent to it can be answered any more. */
  #isClosed = false;

  private constructor(session: CDPSession, sessionId: string) {
    this.#session = session;
    this.#sessionId = sessionId;
    session.on("Target.receivedMessageFromTarget", (event) => {
      if (event.sessionId !== this.#sessionId) return;
      const answer = JSON.parse(event.message) as ProtocolAnswer;
      this.#pending.get(answer.id)?.(answer);
      this.#pending.delete(answer.id);
    });
    // The window closing (the wallet answered, or the shopper left) ends every question still waiting for it.
    session.on("Target.detachedFromTarget", (event) => {
      if (event.sessionId !== this.#sessionId) return;
      this.#isClosed = true;
      for (const [id, resolve] of this.#pending) resolve({ id, error: { message: CLOSED } });
      this.#pending.clear();
    });
  }

  /** Waits for the browser to open the wallet's sheet and attaches to it. */
  static async open(browser: Browser, timeoutMs = 15_000): Promise<WalletSheet> {
    const session = await browser.newBrowserCDPSession();
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { targetInfos } = await session.send("Target.getTargets");
      const sheet = targetInfos.find((target) => target.type === "page" && new URL(target.url || "about:blank").pathname === "/wallet/sheet");
      if (sheet) {
        const { sessionId } = await session.send("Target.attachToTarget", { targetId: sheet.targetId, flatten: false });
        const walletSheet = new WalletSheet(session, sessionId);
        await walletSheet.#waitForReady(deadline);
        return walletSheet;
      }
      if (Date.now() > deadline) throw new Error(`The wallet's sheet did not open; targets: ${targetInfos.map((t) => `${t.type} ${t.url}`).join(", ")}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Whether a wallet sheet is open anywhere in the browser. */
  static async isOpen(browser: Browser): Promise<boolean> {
    const session = await browser.newBrowserCDPSession();
    const { targetInfos } = await session.send("Target.getTargets");
    await session.detach();
    return targetInfos.some((target) => target.type === "page" && target.url.includes("/wallet/sheet"));
  }

  #send(method: string, params: Record<string, unknown> = {}): Promise<ProtocolAnswer> {
    const id = this.#nextId++;
    if (this.#isClosed) return Promise.resolve({ id, error: { message: CLOSED } });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        resolve({ id, error: { message: `no answer to ${method} from the wallet's sheet within ${ANSWER_TIMEOUT_MS} ms` } });
      }, ANSWER_TIMEOUT_MS);
      this.#pending.set(id, (answer) => {
        clearTimeout(timer);
        resolve(answer);
      });
      this.#session.send("Target.sendMessageToTarget", { sessionId: this.#sessionId, message: JSON.stringify({ id, method, params }) }).catch((error: unknown) => {
        clearTimeout(timer);
        this.#pending.delete(id);
        reject(error);
      });
    });
  }

  /** Runs a click that makes the window go away: its answer may never come, which is fine once the window has gone. */
  async #clickThatCloses(expression: string): Promise<void> {
    try {
      await this.evaluate(expression);
    } catch (error) {
      if (!this.#isClosed) throw error;
    }
  }

  async #waitForReady(deadline: number): Promise<void> {
    while (!(await this.evaluate<boolean>("document.readyState === 'complete' && !!document.getElementById('pay') && !!navigator.serviceWorker.controller"))) {
      if (Date.now() > deadline) throw new Error("The wallet's sheet did not finish loading");
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async evaluate<T>(expression: string): Promise<T> {
    const answer = await this.#send("Runtime.evaluate", { expression, returnByValue: true, awaitPromise: true, userGesture: true });
    if (answer.error || answer.result?.exceptionDetails) throw new Error(`In the wallet's sheet: ${JSON.stringify(answer.error ?? answer.result?.exceptionDetails)}`);
    return answer.result?.result?.value as T;
  }

  text(selector: string): Promise<string> {
    return this.evaluate<string>(`document.querySelector(${JSON.stringify(selector)})?.textContent.trim() ?? ""`);
  }

  async choose(cardId: string): Promise<void> {
    await this.evaluate(`document.querySelector('input[name=card][value=${JSON.stringify(cardId)}]').click()`);
  }

  /** Presses Pay (after choosing `cardId`); the sheet closes once the wallet has answered the shop. */
  async pay(cardId: string): Promise<void> {
    await this.choose(cardId);
    await this.#clickThatCloses("document.getElementById('pay').click()");
  }

  async cancel(): Promise<void> {
    await this.#clickThatCloses("document.getElementById('cancel').click()");
  }

  /** The browser's own way out of a payment handler window (as its close button): Escape. The window goes away. */
  async pressEscape(): Promise<void> {
    const key = { key: "Escape", code: "Escape", windowsVirtualKeyCode: 27, nativeVirtualKeyCode: 27 };
    await this.#send("Input.dispatchKeyEvent", { type: "rawKeyDown", ...key });
    // The window may already be gone: the key-up has nowhere to go, which is the point.
    await Promise.race([this.#send("Input.dispatchKeyEvent", { type: "keyUp", ...key }), new Promise((resolve) => setTimeout(resolve, 1000))]).catch(() => undefined);
  }

  async screenshot(file: string): Promise<void> {
    const answer = await this.#send("Page.captureScreenshot", { format: "png" });
    if (!answer.result?.data) throw new Error(`No screenshot of the wallet's sheet: ${JSON.stringify(answer.error)}`);
    writeFileSync(file, Buffer.from(answer.result.data, "base64"));
  }

  /** axe in the sheet, with the same rules as the shop's pages (axe.ts). */
  async axeViolations(): Promise<AxeViolation[]> {
    if (!(await this.evaluate<boolean>("typeof window.axe === 'object'"))) await this.evaluate(`${axeSource};true`);
    return this.evaluate<AxeViolation[]>(`axe.run(document, {
      resultTypes: ["violations"],
      runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"] },
    }).then((result) => result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => n.target.map(String).join(" ")) })))`);
  }

  async detach(): Promise<void> {
    await this.#session.detach().catch(() => undefined);
  }
}
