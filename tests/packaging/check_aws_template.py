"""cfn-lint over packaging/aws/rotation.yaml: no error, no warning. The same run over a copy with
a deliberate mistake must fail, so a broken cfn-lint cannot pass the template."""
import subprocess
import sys
import tempfile
from pathlib import Path

try:
    import cfnlint  # noqa: F401
except ImportError:
    print("cfn-lint is not installed: run scripts/setup")
    sys.exit(77)

template = Path(sys.argv[1])
# The console script next to this interpreter (cfnlint has no __main__).
lint = [str(Path(sys.executable).with_name("cfn-lint")), "--format", "parseable"]
good = subprocess.run(lint + [str(template)], capture_output=True, text=True)
print(good.stdout, good.stderr, sep="", end="")
if good.returncode != 0:
    sys.exit(f"cfn-lint found problems in {template}")

text = template.read_text()
assert "Runtime: python3.12" in text, "the template's runtime line moved; update this check"
with tempfile.TemporaryDirectory() as d:
    broken = Path(d) / "broken.yaml"
    broken.write_text(text.replace("Runtime: python3.12", "Runtime: python2.0"))
    bad = subprocess.run(lint + [str(broken)], capture_output=True, text=True)
    if bad.returncode == 0 or "python2.0" not in bad.stdout:
        sys.exit("cfn-lint accepted a template with an unknown runtime: it is not checking")
print(f"{template.name}: cfn-lint clean; a broken copy is rejected")
