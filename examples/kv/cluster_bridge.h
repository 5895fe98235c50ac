// examples/kv/cluster_bridge.h — kv_server --cluster: PUBLISH on any kv node reaches the
// SUBSCRIBE and PSUBSCRIBE clients of every node.
//
// Model: each kv node is a grove::cluster::Node on a shared NATS server, and runs one bridge
// actor registered in the cluster's global registry as "kv.pubsub.<node>". A client's PUBLISH
// is delivered locally first (its reply counts local receivers only, as in Redis Cluster), then
// handed to the bridge, which sends it to the bridge of every other node it knows is up. A
// bridge delivers what other nodes send it to its own subscribers. Order: the PUBLISHes of one
// client reach each other node in the order they were made (a local mailbox, then one node's
// ordered stream). Keyspace notifications stay on the node whose data changed, as in Redis
// Cluster. A node that is not up yet, or has no bridge registered yet, misses what is published
// meanwhile — pub/sub keeps nothing for later, on one node or many.
//
// Thread: the kv_server's hub.
#pragma once

#include <string_view>

#include "actors/actor.h"
#include "cluster/node.h"
#include "examples/kv/server.h"

namespace kv {

// The bridge's body (a permanent child of the kv root supervisor). Registers the bridge, sets
// server.forward_publish, and serves until killed; a restarted bridge registers again.
void cluster_bridge_main(Server& server, grove::cluster::Node& node);

// Registers the bridge's message type; call once before the Node starts.
void register_cluster_types();

}  // namespace kv
