"""The reference program's scalar `Value`, as the peer for the autograd and MicroGPT benches.

A copy of the reference's logic (recursive topological sort, a constant `Value` per operand),
so the benches measure against it without the app ever needing the reference file.
"""

from __future__ import annotations

import math


class ReferenceValue:
    def __init__(self, data, _children=(), local_grads=()):
        self.data = data
        self.grad = 0
        self._children = _children
        self.local_grads = local_grads

    def __add__(self, other):
        other = other if isinstance(other, ReferenceValue) else ReferenceValue(other)
        out = ReferenceValue(self.data + other.data, _children=(self, other))
        out.local_grads = (1.0, 1.0)
        return out

    def __mul__(self, other):
        other = other if isinstance(other, ReferenceValue) else ReferenceValue(other)
        out = ReferenceValue(self.data * other.data, _children=(self, other))
        out.local_grads = (other.data, self.data)
        return out

    def __pow__(self, other):
        return ReferenceValue(self.data**other, (self,), (other * self.data ** (other - 1),))

    def log(self):
        return ReferenceValue(math.log(self.data + 1e-10), (self,), (1 / (self.data + 1e-10),))

    def exp(self):
        return ReferenceValue(math.exp(self.data), (self,), (math.exp(self.data),))

    def relu(self):
        return ReferenceValue(max(0, self.data), (self,), (float(self.data > 0),))

    def __neg__(self):
        return self * -1

    def __radd__(self, other):
        return self + other

    def __sub__(self, other):
        return self + (-other)

    def __rsub__(self, other):
        return other + (-self)

    def __rmul__(self, other):
        return self * other

    def __truediv__(self, other):
        return self * other**-1

    def __rtruediv__(self, other):
        return other * self**-1

    def backward(self):
        topological_graph = []
        visited = set()

        def build_top(v):
            if v not in visited:
                visited.add(v)
                for child in v._children:
                    build_top(child)
                topological_graph.append(v)

        build_top(self)
        self.grad = 1
        for v in reversed(topological_graph):
            for child, local_grad in zip(v._children, v.local_grads, strict=True):
                child.grad += local_grad * v.grad
