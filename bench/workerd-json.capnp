# The JSON API Worker of the HTTP benchmark (bench/json-api.js) in workerd; port from --socket-addr.
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [ (name = "main", worker = .api) ],
  sockets = [ (name = "http", address = "127.0.0.1:18789", http = (), service = "main") ],
);

const api :Workerd.Worker = (
  modules = [ (name = "json-api.js", esModule = embed "json-api.js") ],
  compatibilityDate = "2024-07-01",
);
