// The small part of dcmjs the engine uses (the package ships no type declarations).
declare module "dcmjs" {
  type Element = { vr: string; Value?: unknown[] };
  const dcmjs: {
    log: { setLevel(level: string): void };
    data: {
      DicomMetaDictionary: { dictionary: Record<string, { tag: string; vr: string; vm: string; name: string } | undefined> };
      DicomMessage: {
        readFile(
          buffer: ArrayBuffer,
          options?: { untilTag?: string; ignoreErrors?: boolean; includeUntilTagValue?: boolean },
        ): { meta: Record<string, Element>; dict: Record<string, Element> };
      };
    };
  };
  export default dcmjs;
}
