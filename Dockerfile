# The relay (tracklet-relay) as a small image: built in one stage, run as a non-root user in another.
#   docker build -t tracklet-relay .
#   docker run -p 8787:8787 -v "$PWD/relay.json:/config/relay.json:ro" -v tracklet-data:/data \
#     -e TRACKLET_ADMIN_TOKEN=… tracklet-relay
# Config: the mounted file (/config/relay.json); secrets and overrides from the environment
# (TRACKLET_PORT, TRACKLET_STORAGE or DATABASE_URL, and each `…Env` the config names). See deploy/README.md.

FROM node:20-bookworm-slim AS build
WORKDIR /app
# better-sqlite3 compiles when no prebuilt binary fits.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN node build.mjs && npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
RUN mkdir -p /data /config && chown node:node /data
USER node
EXPOSE 8787
VOLUME ["/data"]
ENTRYPOINT ["node", "dist/relay/cli.js"]
CMD ["serve", "--config", "/config/relay.json", "--host", "0.0.0.0", "--port", "8787", "--store", "/data/relay.db"]
