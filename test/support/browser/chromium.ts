import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';

/** Debian's Chromium, installed by test/support/install-test-servers.sh (CHROMIUM_BIN names another). */
export const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';

/** How long a page may take to show what a test waits for before the wait fails with what the page logged. */
const PAGE_DEADLINE_MS = 90_000;

interface DevToolsMessage {
  id?: number;
  method?: string;
  sessionId?: string;
  params?: Record<string, unknown>;
  result?: Record<string, unknown>;
  error?: { message: string };
}

/** A page open in headless Chromium, driven through the DevTools protocol. */
export interface ChromiumPage {
  /** What the page logged (console calls and uncaught exceptions), for failure messages. */
  readonly log: readonly string[];
  /** `expression`'s value in the page (awaited when it is a promise; JSON values only). */
  evaluate<T>(expression: string): Promise<T>;
  /** Polls `expression` until it is a non-empty string, and answers it: the page's own "done". */
  waitForText(expression: string): Promise<string>;
  /** Chooses `paths` in the `<input type="file">` at `selector`, as a user would: the page gets its change event. */
  chooseFiles(selector: string, paths: readonly string[]): Promise<void>;
  close(): Promise<void>;
}

/**
 * Opens `url` in a fresh headless Chromium (its own profile, --no-sandbox as root in a container
 * needs) and waits for its load event. The DevTools protocol runs over --remote-debugging-pipe
 * (file descriptors 3 and 4, NUL-separated JSON): no port to find, and the browser goes when the
 * pipe closes. Fails loudly when Chromium is missing.
 */
export async function openInChromium(url: string): Promise<ChromiumPage> {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: run test/support/install-test-servers.sh (or set CHROMIUM_BIN)`);
  const profile = await mkdtemp(join(tmpdir(), 'attache-chromium-'));
  const args = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--remote-debugging-pipe', `--user-data-dir=${profile}`, 'about:blank'];
  const child = spawn(CHROMIUM, args, { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] });
  const devTools = new DevToolsPipe(child);
  try {
    const { targetId } = await devTools.send<{ targetId: string }>('Target.createTarget', { url: 'about:blank' });
    const { sessionId } = await devTools.send<{ sessionId: string }>('Target.attachToTarget', { targetId, flatten: true });
    const log: string[] = [];
    devTools.onEvent(sessionId, 'Runtime.consoleAPICalled', (params) => {
      const values = (params.args as { value?: unknown; description?: string }[]).map((arg) => arg.value ?? arg.description);
      log.push(`console.${String(params.type)}: ${values.join(' ')}`);
    });
    devTools.onEvent(sessionId, 'Runtime.exceptionThrown', (params) => {
      const details = params.exceptionDetails as { text: string; exception?: { description?: string } };
      log.push(`uncaught: ${details.exception?.description ?? details.text}`);
    });
    await devTools.send('Runtime.enable', {}, sessionId);
    await devTools.send('Page.enable', {}, sessionId);
    const loaded = devTools.nextEvent(sessionId, 'Page.loadEventFired');
    const navigated = await devTools.send<{ errorText?: string }>('Page.navigate', { url }, sessionId);
    if (navigated.errorText) throw new Error(`Chromium could not open ${url}: ${navigated.errorText}`);
    await loaded;

    const evaluate = async <T>(expression: string): Promise<T> => {
      const answer = await devTools.send<{ result: { value?: T }; exceptionDetails?: { text: string; exception?: { description?: string } } }>(
        'Runtime.evaluate',
        { expression, awaitPromise: true, returnByValue: true },
        sessionId,
      );
      if (answer.exceptionDetails) throw new Error(`${expression} threw in the page: ${answer.exceptionDetails.exception?.description ?? answer.exceptionDetails.text}`);
      return answer.result.value as T;
    };
    return {
      log,
      evaluate,
      async waitForText(expression) {
        const deadline = Date.now() + PAGE_DEADLINE_MS;
        for (;;) {
          const text = await evaluate<unknown>(expression);
          if (typeof text === 'string' && text !== '') return text;
          if (Date.now() > deadline) throw new Error(`the page never showed ${expression}; it logged:\n${log.join('\n')}`);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      },
      async chooseFiles(selector, paths) {
        const { root } = await devTools.send<{ root: { nodeId: number } }>('DOM.getDocument', {}, sessionId);
        const { nodeId } = await devTools.send<{ nodeId: number }>('DOM.querySelector', { nodeId: root.nodeId, selector }, sessionId);
        if (!nodeId) throw new Error(`no ${selector} in the page`);
        await devTools.send('DOM.setFileInputFiles', { nodeId, files: paths }, sessionId);
      },
      async close() {
        await devTools.close();
        await rm(profile, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await devTools.close();
    await rm(profile, { recursive: true, force: true });
    throw error;
  }
}

/** The DevTools protocol over Chromium's pipe: commands answered by id, events by session and name. */
class DevToolsPipe {
  #nextId = 1;
  #pending = new Map<number, { resolve: (result: Record<string, unknown>) => void; reject: (error: Error) => void }>();
  #listeners: { sessionId: string; method: string; listener: (params: Record<string, unknown>) => void }[] = [];
  #stderr = '';
  #exited: Promise<void>;
  readonly #toBrowser: Writable;
  readonly child: ChildProcess;

  constructor(child: ChildProcess) {
    this.child = child;
    this.#toBrowser = child.stdio[3] as Writable;
    const fromBrowser = child.stdio[4] as Readable;
    child.stderr!.on('data', (chunk: Buffer) => {
      this.#stderr = (this.#stderr + chunk.toString()).slice(-4000);
    });
    let buffered = '';
    fromBrowser.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      let end: number;
      while ((end = buffered.indexOf('\0')) >= 0) {
        this.#receive(JSON.parse(buffered.slice(0, end)) as DevToolsMessage);
        buffered = buffered.slice(end + 1);
      }
    });
    this.#toBrowser.on('error', () => {}); // a browser gone is reported by 'exit' below
    this.#exited = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        const gone = new Error(`${CHROMIUM} exited (${signal ?? code}):\n${this.#stderr}`);
        for (const { reject } of this.#pending.values()) reject(gone);
        this.#pending.clear();
        resolve();
      });
      child.on('error', (error) => {
        for (const { reject } of this.#pending.values()) reject(new Error(`${CHROMIUM} could not start: ${error.message}`));
        this.#pending.clear();
        resolve();
      });
    });
  }

  send<T = Record<string, unknown>>(method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<T> {
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (result: Record<string, unknown>) => void, reject });
      this.#toBrowser.write(`${JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) })}\0`);
    });
  }

  onEvent(sessionId: string, method: string, listener: (params: Record<string, unknown>) => void): () => void {
    const entry = { sessionId, method, listener };
    this.#listeners.push(entry);
    return () => {
      this.#listeners = this.#listeners.filter((other) => other !== entry);
    };
  }

  nextEvent(sessionId: string, method: string): Promise<Record<string, unknown>> {
    return new Promise((resolve) => {
      const stop = this.onEvent(sessionId, method, (params) => {
        stop();
        resolve(params);
      });
    });
  }

  async close(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      await this.send('Browser.close').catch(() => {});
      const killer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
      await this.#exited;
      clearTimeout(killer);
    }
  }

  #receive(message: DevToolsMessage): void {
    if (message.id !== undefined) {
      const pending = this.#pending.get(message.id);
      this.#pending.delete(message.id);
      if (message.error) pending?.reject(new Error(`DevTools: ${message.error.message}`));
      else pending?.resolve(message.result ?? {});
      return;
    }
    for (const { sessionId, method, listener } of this.#listeners) {
      if (message.sessionId === sessionId && message.method === method) listener(message.params ?? {});
    }
  }
}
