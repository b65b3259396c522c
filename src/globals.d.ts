// Build-time constants from build.mjs FLAGS (esbuild and vitest `define`).
declare const DEBUG: boolean;
declare const TEARDOWN: boolean;
