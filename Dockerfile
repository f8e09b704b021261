# Build: docker build -t renfang .
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked

FROM debian:bookworm-slim
RUN useradd --system --home /var/lib/renfang renfang && mkdir -p /var/lib/renfang \
    && chown renfang /var/lib/renfang
COPY --from=build /src/target/release/renfang /usr/local/bin/renfang
# Poster templates stay files so that a designer's change needs no rebuild.
COPY --from=build /src/qr-templates /usr/share/renfang/qr-templates
# The poster font is built into the binary; its licence travels with it.
COPY --from=build /src/assets/fonts/LICENSE-OFL.txt /usr/share/doc/renfang/fonts/LICENSE-OFL.txt
USER renfang
WORKDIR /var/lib/renfang
ENV RENFANG_BIND=0.0.0.0:8080 RENFANG_QR_TEMPLATES=/usr/share/renfang/qr-templates
EXPOSE 8080
CMD ["renfang", "serve"]
