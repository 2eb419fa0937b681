/** edgevpn network token (docs/kairos-notes.md §5). */
export {
  generateNetworkToken,
  decodeNetworkToken,
  encodeNetworkToken,
  NetworkTokenError,
  NETWORK_TOKEN_DEFAULT_INTERVAL,
  MAX_INT64_TEXT,
  type NetworkToken,
  type OtpSpec,
  type GenerateNetworkTokenOptions,
} from "./token";
