# Runtime image of the bridges of Python servers (command uvx, uv, python*, pip*), rendered by
# `mcp-gateway render` into build/ of the deploy folder: Python with uv, plus node and the
# gateway (app/) from the same build context as runtime-node.Dockerfile.
#
# PYTHON_IMAGE is deploy.pythonImage: the official python image, where `pip install uv` reaches
# PyPI, or one that has uv already (`mcp-gateway images build` makes one from the host's python3
# and uv, for hosts without a registry), where nothing is installed. Either needs a shell.
ARG NODE_IMAGE={{nodeImage}}
ARG PYTHON_IMAGE={{pythonImage}}
FROM ${NODE_IMAGE} AS node

FROM ${PYTHON_IMAGE}
RUN command -v uv >/dev/null 2>&1 || pip install --no-cache-dir uv
# Node's official Linux binary needs only glibc and libstdc++, both in Debian-based Python images.
COPY --from=node /usr/local/bin/node /usr/local/bin/node
LABEL org.opencontainers.image.title="mcp-gateway runtime (python + uv)" \
      org.opencontainers.image.version="{{version}}"
# uvx caches the servers it downloads under HOME; containers run as the rendering user.
ENV NODE_ENV=production \
    HOME=/tmp \
    UV_CACHE_DIR=/tmp/uv-cache
COPY app /app
CMD ["/usr/local/bin/node", "/app/bin/mcp-gateway.js", "--help"]
