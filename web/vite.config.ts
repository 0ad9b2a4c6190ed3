// The storefront (index.html) and the admin console (admin.html) are two pages of one build: a customer never
// downloads the console's code. Routes live after the '#', so the same files work from the local gateway, from S3
// behind CloudFront, and from a link PayPal sends the buyer back to, with no rewrite rule anywhere.
import { resolve } from "node:path";
import { defineConfig } from "vite";

export default defineConfig({
  base: "./",
  esbuild: { jsx: "automatic", jsxImportSource: "preact" },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    sourcemap: false,
    rollupOptions: {
      input: {
        store: resolve(import.meta.dirname, "index.html"),
        admin: resolve(import.meta.dirname, "admin.html"),
      },
    },
  },
});
