// Bun imports any file as a string with `with { type: "text" }`; bun-types declares *.txt but not *.md.
declare module "*.md" {
  const text: string;
  export default text;
}
