// The browser UI: built into web/dist, which the server serves at / (SPA fallback to
// index.html). `npm run build:web` runs `vite build web`.
import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';

const webRoot = decodeURIComponent(new URL('.', import.meta.url).pathname);

export default defineConfig({
  root: webRoot,
  base: '/',
  plugins: [preact({ prerender: { enabled: false } })],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // uPlot is the largest dependency; one bundle keeps the first load to two requests.
    chunkSizeWarningLimit: 600,
  },
  server: {
    proxy: { '/api': 'http://127.0.0.1:8080' },
  },
});
