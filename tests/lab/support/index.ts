export { tcpRequest, type RequestOptions, udpRequest } from "./clients.ts";
export { CommandError, run, type RunOptions, runQuietly } from "./exec.ts";
export { isInLab, NotInLabError, requireLab } from "./guard.ts";
export { ipvsadm, ipvsadmClear, ipvsadmSave } from "./ipvsadm.ts";
export { createLabNetwork, LabNetwork, type LabNamespace, type LabNetworkOptions } from "./netns.ts";
export { type LabServer, type ServerOptions, startTcpNameServer, startUdpEchoServer } from "./servers.ts";
export { IpvsNamespace, ipvsNamespacePerTest } from "./ipvs-namespace.ts";
