# Runtime image of auth, the built-in router and the bridges of node, built-in and remote servers,
# rendered by `mcp-gateway render` into build/ of the deploy folder. The build context holds app/:
# bin/, dist/, package.json and the production node_modules, copied from the installed package.
#
# BASE_IMAGE is deploy.nodeImage (or `render --base-image`): any image with node at
# /usr/local/bin/node and a writable /tmp. There is no RUN step, so a base image without a shell
# (a host without a registry builds one FROM scratch around its own node binary) works as well.
# Secrets never enter the image: they reach the containers through secrets/<service>.env.
ARG BASE_IMAGE={{nodeImage}}
FROM ${BASE_IMAGE}
LABEL org.opencontainers.image.title="mcp-gateway runtime (node)" \
      org.opencontainers.image.version="{{version}}"
# HOME for the caches of npx-launched servers; containers run as the rendering user (compose `user:`).
ENV NODE_ENV=production \
    HOME=/tmp
COPY app /app
CMD ["/usr/local/bin/node", "/app/bin/mcp-gateway.js", "--help"]
