// The size budgets (brotli) that `npm test` enforces. The npm entry is bundled and minified as an app
// would. The script tag's files are measured as they ship: build.mjs minified them twice (esbuild,
// then terser), and a third pass here would rename what terser named: esbuild copies them as they are.
const asBuilt = (check) => ({
  ...check,
  modifyEsbuildConfig: (config) => ({ ...config, loader: { '.js': 'copy' } }),
});

export default [
  asBuilt({
    name: 'dist/tracklet.js (script tag: the first file)',
    path: 'dist/tracklet.js',
    brotli: true,
    limit: '4.84 kB',
  }),
  asBuilt({
    name: 'script tag, everything on (both files)',
    path: ['dist/tracklet.js', 'dist/tracklet.captures.js'],
    brotli: true,
    limit: '9.69 kB',
  }),
  asBuilt({
    name: "script tag's third file (init, props, 404, forms, cross-domain, consent platforms)",
    path: 'dist/tracklet.marketing.js',
    brotli: true,
    limit: '3.73 kB',
  }),
  {
    name: 'npm init + track, bundled by an app',
    path: 'dist/npm/index.js',
    import: '{ init, track }',
    brotli: true,
    limit: '5.23 kB',
  },
];
