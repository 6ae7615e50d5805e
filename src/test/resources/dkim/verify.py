# An independent DKIM verifier for the tests: dkimpy (Debian's python3-dkim), without the network.
# Usage: python3 verify.py <record name> <record value> < message
# The record is the one the relay's API publishes; any other name looked up is absent.
# Prints "verified" (exit 0) or "not verified" (exit 1); exit 2 when dkimpy is missing.
import sys

try:
    import dkim
except ImportError:
    print("python3-dkim (dkimpy) is not installed", file=sys.stderr)
    sys.exit(2)

record_name, record_value = sys.argv[1], sys.argv[2]


def dnsfunc(name, timeout=5):
    if isinstance(name, bytes):
        name = name.decode("ascii")
    return record_value.encode("ascii") if name.rstrip(".").lower() == record_name.lower() else None


message = sys.stdin.buffer.read()
ok = dkim.verify(message, dnsfunc=dnsfunc, minkey=2048)
print("verified" if ok else "not verified")
sys.exit(0 if ok else 1)
