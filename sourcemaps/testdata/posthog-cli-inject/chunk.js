import{j as r,R as o}from"./index-D_JuKIur.js";function e(){const t=new Error("Exception created");throw o.captureException(t),t}function c(){return r.jsx("button",{onClick:()=>e(),children:"Create exception"})}export{c as default};
//# sourceMappingURL=chunk.js.map
