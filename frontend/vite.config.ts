/// <reference types="vitest/config" />
import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'

// `npm run dev` proxies the API and ping URLs to a running local mode (`make run`),
// so the dev server and the built SPA talk to the server the same way: same origin.
const server = process.env.SRVPULSE_URL ?? 'http://127.0.0.1:8000'

export default defineConfig({
  plugins: [vue()],
  server: {
    proxy: {
      '/api': server,
      '/ping': server,
    },
  },
  build: {
    // The figure to watch is the gzipped size of the initial JavaScript
    // (scripts/bundle-size.mjs prints it); pages are split into their own chunks.
    chunkSizeWarningLimit: 400,
  },
  test: {
    environment: 'happy-dom',
    include: ['tests/**/*.spec.ts'],
  },
})
