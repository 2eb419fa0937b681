/** Test data shared by the cloud-config tests. */
import * as yaml from "js-yaml";

/** A network token in the form edgevpn generates (docs/kairos-notes.md §5): base64 of a YAML map. Not a real network. */
export const NETWORK_TOKEN = Buffer.from(
  yaml.dump({
    otp: {
      dht: { interval: 9000, key: "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8S9t0U1v", length: 43 },
      crypto: { interval: 9000, key: "Z9y8X7w6V5u4T3s2R1q0P9o8N7m6L5k4J3i2H1g0F9e", length: 43 },
    },
    room: "roomRoomRoomRoomRoomRoomRoomRoomRoomRoomRoo",
    rendezvous: "rendezvousRendezvousRendezvousRendezvousRe",
    mdns: "mdnsMdnsMdnsMdnsMdnsMdnsMdnsMdnsMdnsMdnsMdn",
    max_message_size: 20971520,
  }),
).toString("base64");
