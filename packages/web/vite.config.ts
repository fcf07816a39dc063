import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// Relative asset URLs: the same build is served at `/` by the local runtime and by the StaticSite on AWS.
// `npm run dev -w @driftwatch/web` proxies the API to a running local instance (HTTP_PORT, default 3000).
const api = `http://127.0.0.1:${process.env.HTTP_PORT ?? "3000"}`;

export default defineConfig({
  base: "./",
  plugins: [react()],
  build: { outDir: "dist", sourcemap: true, chunkSizeWarningLimit: 800 },
  server: { proxy: { "/api": api, "/local": api } },
});
