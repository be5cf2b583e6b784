/**
 * Headless Chromium for the browser tests (installed by scripts; WR_CHROMIUM overrides the path),
 * with one visitor per browser context (a context is a browser profile: its own storage and cookies).
 */
import { chromium, type Browser, type BrowserContext } from 'playwright-core';

export class TestBrowser {
  private readonly contexts: BrowserContext[] = [];

  private constructor(private readonly browser: Browser) {}

  static async launch(): Promise<TestBrowser> {
    const browser = await chromium.launch({
      executablePath: process.env.WR_CHROMIUM ?? '/usr/bin/chromium',
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    return new TestBrowser(browser);
  }

  /** A new visitor: a fresh profile in `locale`, with `initScript` run in each of its pages first. */
  async visitor(locale = 'en-US', initScript?: string): Promise<BrowserContext> {
    const context = await this.browser.newContext({ locale, viewport: { width: 900, height: 760 } });
    this.contexts.push(context);
    if (initScript) await context.addInitScript(initScript);
    return context;
  }

  async close(): Promise<void> {
    for (const context of this.contexts) await context.close().catch(() => undefined);
    await this.browser.close();
  }
}
