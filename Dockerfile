# syntax=docker/dockerfile:1
# attache: the image runs the compiled dist/ (tsc), not src/*.ts: Node 24 could strip the types
# itself, but its type stripper stays loaded and costs the service ~30 MB of resident memory.
ARG NODE_IMAGE=node:24-bookworm-slim

# Stage 1: production dependencies only. The lock file pins them; dev tools (vitest, tsc, the
# `node` devDependency) never reach the image. sharp's prebuilt libvips comes as an npm package
# (@img/sharp-linux-x64, for glibc), and HEVC is decoded by libheif-js (WebAssembly): the image
# needs no system library for previews.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force

# Stage 2: compile src/ to dist/ with the lock file's TypeScript. Every dependency is installed
# for the type check, but no install script runs; none of this stage reaches the image.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN node node_modules/typescript/bin/tsc -p tsconfig.build.json

# Stage 3: what runs. Owned by root, run as the image's unprivileged `node` user, so the
# process cannot modify its own code or dependencies.
FROM ${NODE_IMAGE} AS runtime
# MALLOC_ARENA_MAX=1: libvips's threads (previews) would each keep a glibc malloc arena whose freed
# memory stays resident; one arena took a burst of 8 JPEG previews from 175 to 143 MB peak, and
# nothing measured got slower (docs/performance.md).
ENV NODE_ENV=production \
    MALLOC_ARENA_MAX=1 \
    HOST=0.0.0.0 \
    PORT=8080 \
    LOCAL_STORAGE_DIR=/data/uploads
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY --from=build /app/dist ./dist
# Only the `local` driver writes here; no other driver writes to local disk.
RUN mkdir -p /data/uploads && chown -R node:node /data
VOLUME ["/data"]
USER node
EXPOSE 8080
# The slim image has no curl or wget; Node 24's fetch does the probe.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# SIGTERM starts the graceful shutdown (SHUTDOWN_GRACE_MS, default 25 s); node runs as PID 1
# and handles the signal itself, so no init wrapper is needed to forward it.
STOPSIGNAL SIGTERM
# A 2 MB young generation: the request buffers of uploads die young, and a small one collects
# them before they pile up, which keeps peak memory near 130 MB under load instead of ~175 MB
# (npm run bench starts the service with the flags given here).
CMD ["node", "--max-semi-space-size=2", "dist/main.js"]
