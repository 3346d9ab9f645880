/// <reference types="vitest/config" />
import { defineConfig, type ProxyOptions } from 'vite';
import react from '@vitejs/plugin-react';

// The dev server proxies the API to a running alphalab server (default 127.0.0.1:8000).
const api = process.env['ALPHALAB_API'] ?? 'http://127.0.0.1:8000';

// The server refuses a foreign Origin (docs/security.md); the dev page's own origin
// (http://localhost:5173) is passed on as the server's, other origins as they are.
const proxied: ProxyOptions = {
  target: api,
  changeOrigin: true,
  configure: (proxy) => {
    proxy.on('proxyReq', (req) => {
      const origin = req.getHeader('origin');
      if (typeof origin === 'string' && /^http:\/\/(localhost|127\.0\.0\.1)(:\d+)?$/.test(origin)) req.setHeader('origin', api);
    });
  },
};

export default defineConfig({
  plugins: [react()],
  server: {
    proxy: { '/api': proxied, '/metrics': proxied },
  },
  preview: {
    proxy: { '/api': proxied, '/metrics': proxied },
  },
  build: { outDir: 'dist', sourcemap: false, chunkSizeWarningLimit: 600 },
  test: {
    environment: 'jsdom',
    include: ['test/**/*.test.{ts,tsx}'],
    setupFiles: ['test/setup.ts'],
    // The first render of a page compiles its response schemas (ajv); on a loaded 2-core
    // machine that alone can pass the 5 s default.
    testTimeout: 30_000,
  },
});
