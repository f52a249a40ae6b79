"""A second, independent description of a LUT network in hardware: Verilog written straight from hcl.reference's rules.

`hcl verify` proves the emitted VHDL equal to this netlist. It is deliberately written by another path than the
Jinja2 template and ``hcl.emit.design_data``, so that a bug in one is not copied into the other:

* comparators: ``x[f] >= T`` / ``x[f] == V`` in 66-bit signed arithmetic on the sign- or zero-extended word, so a
  threshold at or beyond either end of the word needs no special case (emit folds those into constants);
* truth tables: binary literals built bit by bit from ``(table >> a) & 1`` (the network format's rule), not hex;
* popcounts: one sum per class group, as wide as that group's size needs;
* argmax: a linear scan that takes a class only when strictly greater (``reference.winner``: first maximum),
  not the balanced tree the template builds;
* registers: the combinational result delayed by ``latency`` register stages, with the valid bits shifted and
  cleared by a synchronous reset, as the manifest's protocol says.
"""

from __future__ import annotations

from hcl.encode import Encoder
from hcl.network import Network

REFERENCE_TOP = "hcl_reference"
_WIDE = 66   # wider than any int64 threshold and any 64-bit input word, with a sign bit


def score_bits(group_size: int) -> int:
    """Bits that hold a popcount of `group_size` one-bit signals."""
    return max(1, int(group_size).bit_length())


def _literal(value: int) -> str:
    return f"-{_WIDE}'sd{-value}" if value < 0 else f"{_WIDE}'sd{value}"


def _table_bits(table: int, k: int) -> str:
    return "".join(str((int(table) >> a) & 1) for a in reversed(range(1 << k)))


def reference_verilog(net: Network, enc: Encoder, score_width: int, index_width: int, latency: int,
                      top: str = REFERENCE_TOP) -> str:
    """Verilog-2005 module `top` with the emitted entity's ports, computing the network by hcl.reference's rules."""
    n_features, n_classes = enc.n_features, net.n_classes
    own_width = max(score_bits(len(g)) for g in net.groups)
    if score_width < own_width:
        raise ValueError(f"score width {score_width} cannot hold a popcount of {max(map(len, net.groups))}")
    v = [f"// Reference netlist of a LUT network, written by hcl.netlist (not by the VHDL template).",
         f"module {top} (",
         "  input wire clk, input wire rst, input wire in_valid,",
         f"  input wire [{enc.port_width - 1}:0] x,",
         "  output wire out_valid,",
         f"  output wire [{index_width - 1}:0] class_idx,",
         f"  output wire [{n_classes * score_width - 1}:0] scores",
         ");"]
    for f, (offset, width, signed) in enumerate(zip(enc.word_offsets(), enc.widths, enc.signs)):
        word = f"x[{offset + width - 1}:{offset}]"
        ext = f"{{{{{_WIDE - width}{{x[{offset + width - 1}]}}}}, {word}}}" if signed else \
              f"{{{_WIDE - width}'d0, {word}}}"
        v.append(f"  wire signed [{_WIDE - 1}:0] w{f} = {ext};")
    v.append(f"  wire [{net.n_inputs - 1}:0] e;")
    for bit, (f, op, t) in enumerate(zip(enc.features.tolist(), enc.ops, enc.thresholds.tolist())):
        rel = ">=" if op == ">=" else "=="
        v.append(f"  assign e[{bit}] = w{int(f)} {rel} {_literal(int(t))};")
    src = "e"
    for layer, (wiring, tables) in enumerate(zip(net.wiring, net.tables), start=1):
        v.append(f"  wire [{wiring.shape[0] - 1}:0] n{layer};")
        for j, (inputs, table) in enumerate(zip(wiring.tolist(), tables.tolist())):
            address = ", ".join(f"{src}[{i}]" for i in reversed(inputs))   # input 0 is address bit 0
            v.append(f"  localparam [{(1 << net.k) - 1}:0] T{layer}_{j} = {1 << net.k}'b{_table_bits(table, net.k)};")
            v.append(f"  assign n{layer}[{j}] = T{layer}_{j}[{{{address}}}];")
        src = f"n{layer}"
    for c, members in enumerate(net.groups):
        # Summed last member first, the order the template's popcount loop adds them in (`v'range` of a
        # `downto` vector): the sum is the same either way, but SAT proves two adder chains equal quickly only
        # when they add in the same order.
        terms = " + ".join(f"{{{score_width - 1}'d0, {src}[{int(m)}]}}" if score_width > 1 else f"{src}[{int(m)}]"
                           for m in reversed(members))
        v.append(f"  wire [{score_width - 1}:0] s{c} = {terms};")
    v.append(f"  reg [{index_width - 1}:0] best;")
    v.append(f"  reg [{score_width - 1}:0] best_score;")
    v.append("  always @* begin")
    v.append(f"    best = {index_width}'d0;")
    v.append("    best_score = s0;")
    for c in range(1, n_classes):
        v.append(f"    if (s{c} > best_score) begin best = {index_width}'d{c}; best_score = s{c}; end")
    v.append("  end")
    packed = "{" + ", ".join(f"s{c}" for c in reversed(range(n_classes))) + "}"
    if latency == 0:
        v += ["  assign out_valid = in_valid;", "  assign class_idx = best;", f"  assign scores = {packed};"]
    else:
        v.append(f"  reg [{latency - 1}:0] valid;")
        for stage in range(latency):
            v.append(f"  reg [{index_width - 1}:0] c{stage};")
            v.append(f"  reg [{n_classes * score_width - 1}:0] d{stage};")
        v.append("  always @(posedge clk) begin")
        v.append("    c0 <= best;")
        v.append(f"    d0 <= {packed};")
        for stage in range(1, latency):
            v.append(f"    c{stage} <= c{stage - 1};")
            v.append(f"    d{stage} <= d{stage - 1};")
        shifted = "in_valid" if latency == 1 else f"{{valid[{latency - 2}:0], in_valid}}"
        v.append(f"    if (rst) valid <= {latency}'d0; else valid <= {shifted};")
        v.append("  end")
        v += [f"  assign out_valid = valid[{latency - 1}];", f"  assign class_idx = c{latency - 1};",
              f"  assign scores = d{latency - 1};"]
    v.append("endmodule")
    return "\n".join(v) + "\n"
