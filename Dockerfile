# Build: docker build -t renfang .
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked

FROM debian:bookworm-slim
RUN useradd --system --home /var/lib/renfang renfang && mkdir -p /var/lib/renfang \
    && chown renfang /var/lib/renfang
COPY --from=build /src/target/release/renfang /usr/local/bin/renfang
USER renfang
WORKDIR /var/lib/renfang
ENV RENFANG_BIND=0.0.0.0:8080
EXPOSE 8080
CMD ["renfang", "serve"]
