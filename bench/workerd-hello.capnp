# The peer for the hello-world benchmark (bench/run.sh): the same Worker (examples/hello) in workerd, the
# Workers runtime from the npm package `workerd`. The port is set on the command line (--socket-addr).
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [ (name = "main", worker = .hello) ],
  sockets = [ (name = "http", address = "127.0.0.1:18789", http = (), service = "main") ],
);

const hello :Workerd.Worker = (
  modules = [ (name = "index.js", esModule = embed "../examples/hello/src/index.js") ],
  compatibilityDate = "2024-07-01",
);
