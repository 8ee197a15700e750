# Broker image: compile the single binary with the project's own Bun (from npm), ship it on a slim base.
FROM node:20-bookworm AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json bunfig.toml CLAUDEMESH.md ./
COPY src ./src
COPY scripts ./scripts
RUN node_modules/.bin/bun scripts/build.ts

FROM debian:bookworm-slim
RUN useradd --system --uid 10001 --home-dir /data claudemesh \
 && mkdir -p /data && chown claudemesh /data
COPY --from=build /src/dist/claudemesh /usr/local/bin/claudemesh
USER claudemesh
VOLUME ["/data"]
EXPOSE 7900
ENTRYPOINT ["/usr/local/bin/claudemesh"]
CMD ["broker", "--host", "0.0.0.0", "--port", "7900", "--data-dir", "/data"]
