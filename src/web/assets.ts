// The page's files: its own (src/web/page/) and the terminal emulator's (@xterm/xterm and two
// addons, from node_modules), read once per run. In the packaged executable there are no files
// beside it: scripts/pkg-bundle.mjs runs readAssets() at build time and puts what it returned
// in place of this module.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export interface Asset {
  contentType: string;
  body: string;
}

const JS = 'text/javascript; charset=utf-8';
const CSS = 'text/css; charset=utf-8';
const HTML = 'text/html; charset=utf-8';

/** Served name → where it is: a package's file, or one of src/web/page/. */
const FILES: Readonly<Record<string, { contentType: string; module?: string; page?: string }>> = {
  'index.html': { contentType: HTML, page: 'index.html' },
  'boot.js': { contentType: JS, page: 'boot.js' },
  'page.js': { contentType: JS, page: 'page.js' },
  'page.css': { contentType: CSS, page: 'page.css' },
  'xterm.js': { contentType: JS, module: '@xterm/xterm/lib/xterm.js' },
  'xterm.css': { contentType: CSS, module: '@xterm/xterm/css/xterm.css' },
  'addon-fit.js': { contentType: JS, module: '@xterm/addon-fit/lib/addon-fit.js' },
  'addon-web-links.js': { contentType: JS, module: '@xterm/addon-web-links/lib/addon-web-links.js' },
};

/** build/src/web/ → src/web/page/: tsc compiles TypeScript only, so the page's files are read from the sources. */
const PAGE_FOLDER = new URL('../../../src/web/page/', import.meta.url);

export async function readAssets(): Promise<Map<string, Asset>> {
  const resolve = createRequire(import.meta.url).resolve;
  const entries = await Promise.all(
    Object.entries(FILES).map(async ([name, { contentType, module, page }]) => {
      const file = module ? resolve(module) : fileURLToPath(new URL(page ?? '', PAGE_FOLDER));
      // xterm's builds end with a pointer to a source map the page does not serve.
      const body = (await readFile(file, 'utf8')).replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n');
      return [name, { contentType, body }] as const;
    }),
  );
  return new Map(entries);
}
