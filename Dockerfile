# Portcullis in a container: built from source like the README's build (cargo, --locked, the
# same Debian build packages as scripts/lib.sh), run as a non-root user on Debian 12 slim with
# only the libraries it links (xmlsec for SAML signatures, OpenSSL).
#
#   docker build -t portcullis .
#   docker run -p 8080:8080 -v portcullis-data:/var/lib/portcullis \
#     -e PORTCULLIS_ISSUER=https://id.example.com portcullis
#
# State (SQLite database, master key) lives in /var/lib/portcullis: mount a volume there, or
# set PORTCULLIS_DATABASE_URL=postgres://... and PORTCULLIS_MASTER_KEY_FILE to a mounted secret.

FROM rust:1.95-bookworm AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential pkg-config ca-certificates libclang-dev libxml2-dev libxmlsec1-dev libssl-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin portcullis \
 && install -m 0755 target/release/portcullis /usr/local/bin/portcullis

FROM debian:12-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates libxmlsec1 libxmlsec1-openssl libxml2 libssl3 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home-dir /var/lib/portcullis --create-home --shell /usr/sbin/nologin portcullis
COPY --from=build /usr/local/bin/portcullis /usr/local/bin/portcullis
COPY config/portcullis.toml /etc/portcullis/portcullis.toml
USER portcullis
WORKDIR /var/lib/portcullis
ENV PORTCULLIS_CONFIG=/etc/portcullis/portcullis.toml \
    PORTCULLIS_DATA_DIR=/var/lib/portcullis \
    PORTCULLIS_LISTEN=0.0.0.0:8080 \
    PORTCULLIS_LOG_FORMAT=json
EXPOSE 8080
VOLUME ["/var/lib/portcullis"]
HEALTHCHECK --interval=30s --timeout=6s --start-period=20s --retries=3 CMD ["portcullis", "health"]
ENTRYPOINT ["portcullis"]
CMD ["serve"]
