// Files of dist/ that src/system/shipped-files.ts embeds in the binary, imported `with { type: "text" }`.
declare module "*.service" {
  const text: string;
  export default text;
}
declare module "*.conf" {
  const text: string;
  export default text;
}
declare module "*.example" {
  const text: string;
  export default text;
}
declare module "*.8" {
  const text: string;
  export default text;
}
