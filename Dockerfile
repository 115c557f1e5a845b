# syntax=docker/dockerfile:1
# attache: Node 24 runs src/*.ts directly (type stripping, on by default in Node 24), so the
# image ships the sources and no build step; `npm run build` (tsc → dist/) is not needed here.
ARG NODE_IMAGE=node:24-bookworm-slim

# Stage 1: production dependencies only. The lock file pins them; dev tools (vitest, tsc,
# firebase-tools, the `node` devDependency) never reach the image.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force

# Stage 2: what runs. Owned by root, run as the image's unprivileged `node` user, so the
# process cannot modify its own code or dependencies.
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    LOCAL_STORAGE_DIR=/data/uploads
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY src ./src
# Only the `local` driver writes here; the spool for in-flight files is the OS temp dir (/tmp).
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
CMD ["node", "src/main.ts"]
