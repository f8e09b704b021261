"""Bare QR codes as PNG with Python's segno and qrcode: the reference side of
scripts/bench-posters.sh. The same codes as examples/qr_codes.rs: distinct 65-byte poster
URLs, level Q, 4-module quiet zone, 8 pixels a module, 1-bit PNG, in memory.

    python3 scripts/bench_qr.py segno 2000
    python3 scripts/bench_qr.py qrcode 2000
"""
import io
import sys
import time


def urls(n):
    return [f"https://renfang.example.gov.cn/q/{i:024d}" for i in range(n)]


def with_segno(n):
    import segno

    size = 0
    for url in urls(n):
        out = io.BytesIO()
        segno.make_qr(url, error="q", boost_error=False).save(out, kind="png", scale=8, border=4)
        size += out.tell()
    return size


def with_qrcode(n):
    import qrcode

    size = 0
    for url in urls(n):
        code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_Q, box_size=8, border=4)
        code.add_data(url)
        code.make(fit=True)
        out = io.BytesIO()
        code.make_image().save(out)
        size += out.tell()
    return size


def main():
    lib, n = sys.argv[1], int(sys.argv[2])
    run = {"segno": with_segno, "qrcode": with_qrcode}[lib]
    start = time.perf_counter()
    size = run(n)
    seconds = time.perf_counter() - start
    print(f"python {lib}: {n} codes in {seconds:.2f} s = {n / seconds:.0f} codes/s "
          f"({size // n} bytes per PNG)")


if __name__ == "__main__":
    main()
