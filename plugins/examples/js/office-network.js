// Reference policy "office-network": sign-ins from the office networks below keep the
// static policy; from anywhere else they need a one-time code or a passkey, may not skip
// the challenge on a trusted device, and are asked again after 8 hours.
import { decision, stronger } from "./selector.js";

// Edit to match your networks (IPv4 CIDR).
const OFFICE_NETWORKS = ["10.0.0.0/8", "192.168.0.0/16", "127.0.0.0/8"];

function ipv4(text) {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return null;
    n = n * 256 + Number(p);
  }
  return n;
}

function inNetwork(ip, cidr) {
  const [base, bits] = cidr.split("/");
  const size = 2 ** (32 - Number(bits));
  const start = ipv4(base);
  return ip !== null && start !== null && ip >= start && ip < start + size;
}

export function evaluate(ctx) {
  const ip = ctx.request.ip === null ? null : ipv4(ctx.request.ip);
  if (OFFICE_NETWORKS.some((cidr) => inNetwork(ip, cidr))) {
    return decision(ctx.staticPolicy, { reason: "office network" });
  }
  return decision(stronger(ctx.staticPolicy, "otp"), {
    allowTrustedDevice: false,
    reauthIntervalMinutes: 480,
    reason: `outside the office networks (${ctx.request.ip ?? "unknown address"})`,
  });
}
