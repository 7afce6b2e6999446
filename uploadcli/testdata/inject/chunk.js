function a(){throw new Error("x")}a();
//# sourceMappingURL=chunk.js.map
