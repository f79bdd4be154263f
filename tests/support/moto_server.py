"""Local AWS Secrets Manager (moto) for the C++ test programs, and boto3 access to its secrets.

  moto_server.py serve --listen 127.0.0.1:0 [--data-dir DIR]
      Starts moto on the loopback address, prints "listening on HOST:PORT" and runs until
      SIGTERM or SIGINT (the line and arguments match what ServerProcess expects).
  moto_server.py get --endpoint URL --secret-id ID
      Prints the AWSCURRENT SecretString.
  moto_server.py put --endpoint URL --secret-id ID --from-file PATH
      Creates the secret with the file's text, or adds a version when it exists.

The get/put commands go through boto3, so the tests check what the C++ store wrote with an
implementation that shares no code with it.
"""
import argparse
import signal
import sys

REGION = "us-east-1"


def serve(args):
    from moto.server import ThreadedMotoServer

    host, _, port = args.listen.rpartition(":")
    # Block the stop signals before moto starts its threads, then wait for one here.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    srv = ThreadedMotoServer(ip_address=host, port=int(port), verbose=False)
    srv.start()
    bound_host, bound_port = srv.get_host_and_port()
    print(f"listening on {bound_host}:{bound_port}", flush=True)
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    srv.stop()
    return 0


def client(endpoint):
    import boto3

    # Fixed test credentials: moto accepts any, and no real AWS configuration is consulted.
    return boto3.client("secretsmanager", endpoint_url=endpoint, region_name=REGION,
                        aws_access_key_id="AKIDMOTOTEST", aws_secret_access_key="motosecret")


def get(args):
    value = client(args.endpoint).get_secret_value(SecretId=args.secret_id, VersionStage="AWSCURRENT")
    sys.stdout.write(value["SecretString"])
    return 0


def put(args):
    with open(args.from_file) as f:
        text = f.read()
    sm = client(args.endpoint)
    try:
        sm.create_secret(Name=args.secret_id, SecretString=text)
    except sm.exceptions.ResourceExistsException:
        sm.put_secret_value(SecretId=args.secret_id, SecretString=text)
    return 0


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--listen", required=True)
    s.add_argument("--data-dir")  # accepted for ServerProcess; moto keeps its state in memory
    s.set_defaults(fn=serve)
    for name, fn in (("get", get), ("put", put)):
        c = sub.add_parser(name)
        c.add_argument("--endpoint", required=True)
        c.add_argument("--secret-id", required=True)
        if name == "put":
            c.add_argument("--from-file", required=True)
        c.set_defaults(fn=fn)
    args = p.parse_args()
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
