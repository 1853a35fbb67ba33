// @ts-check
// Module hooks for bench/imports-probe.mjs (they run on node's loader thread): report each
// bare specifier that a module of ours (build/src) imports, and each module of ours loaded.
/** @type {import('node:worker_threads').MessagePort} */
let port;

/** @type {import('node:module').InitializeHook<{ port: import('node:worker_threads').MessagePort }>} */
export function initialize(data) {
  port = data.port;
}

/** @type {import('node:module').ResolveHook} */
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  const fromOurs = context.parentURL?.includes('/build/src/');
  if (fromOurs && !/^(node:|\.|\/|file:|data:)/.test(specifier)) port.postMessage({ kind: 'packages', name: specifier });
  if (result.url.includes('/build/src/')) port.postMessage({ kind: 'own', name: result.url });
  return result;
}
