// Values scripts/pkg-bundle.mjs gives the bundle through esbuild's `define` (read by pkg-native.cjs).
declare const __CFST_VERSION__: string;
declare const __CFST_BUILD_ID__: string;
