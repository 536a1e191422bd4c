"""Question 2: matrix multiplication from the triple loop to Strassen and BLAS, measured."""
