# syntax=docker/dockerfile:1
# Node 26, the Active LTS line since October 2026 (Node 20 reached its end of life in April 2026).
ARG NODE_IMAGE=node:26-trixie-slim

# Build stage: compile TypeScript with the full dev toolchain.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY operator ./operator
RUN npm run build

# Production dependencies only, installed in a stage of their own so that nothing of the dev
# toolchain (nor npm's cache) can reach the runtime stage.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# Runtime: node and the program. npm, npx and corepack are removed: nothing runs them (the
# entrypoint is node itself) and their own dependency trees are attack surface. Non-root; the
# Deployment mounts the root filesystem read-only (nothing here writes to it).
FROM ${NODE_IMAGE} AS runtime
RUN rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack \
      /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack \
      /usr/local/bin/yarn /usr/local/bin/yarnpkg /opt/yarn-*
ENV NODE_ENV=production
WORKDIR /app
# package.json: the version `dnsop version` prints; crds/: the schemas `dnsop plan` validates with.
COPY package.json ./
COPY bin ./bin
COPY crds ./crds
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
USER 65532:65532
EXPOSE 8080
# --memory-reducer-single-gc: after a burst of work ends, V8's memory reducer runs one full
# collection to give memory back, not up to three. With fifty idle policies for 5 minutes
# (`DNSOP_BENCH_RECORDS=idle npm run bench -- records`, which starts the operator with these
# flags): 0.16 % of a core and 114 MB RSS; V8's default 0.23 % / 111 MB; no reducer at all
# 0.13 % / 122 MB (garbage and its buffers then wait for a collection the heap's growth asks for).
ENTRYPOINT ["node", "--memory-reducer-single-gc", "/app/bin/dnsop.js", "run"]
