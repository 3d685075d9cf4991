namespace Mmae.Tests.Kernels;

/// <summary>
/// How far a backend under test may stray from the float64 oracle. Element i passes when
/// |actual − expected| ≤ Absolute + Relative·|expected| + PerTerm·N(n)·scale, where n counts
/// the rounded operations (mostly additions of a sum) behind the element, scale bounds the
/// magnitudes those operations handle (for example Σ_p |a_ip|·|b_pj| for a Gemm entry), and
/// N(n) = min(n, λ·√n) with λ = <see cref="ProbabilisticLambda"/>.
/// </summary>
/// <remarks>
/// <para>
/// Each floating-point operation is off by at most one unit roundoff u of what it handles, so
/// a sum of n terms is within n·u·Σ|term| in any order or tree. That worst case assumes every
/// rounding error points the same way; with independent roundings the error stays below
/// λ·√n·u·Σ|term| except with probability about 2n·exp(−λ²/2) (Higham and Mary, "A new
/// approach to probabilistic rounding error analysis", 2019). For λ = 8 that is below 1e-9
/// even for n = 16384, while the bound is 16 times tighter than n·u there, tight enough that a
/// wrong normalisation constant or a dropped block at p = 128 cannot hide under it.
/// </para>
/// <para>
/// Inputs in the parity tests are random, which is what makes roundings independent; a
/// backend that rounds with a bias (truncation, an estimated reciprocal square root) fails,
/// which is intended.
/// </para>
/// </remarks>
/// <param name="Absolute">Floor for values that should be exactly 0.</param>
/// <param name="Relative">Allowed error of one elementwise operation, relative to the result.
/// </param>
/// <param name="PerTerm">Allowed error per rounded operation, relative to its magnitude.</param>
public sealed record ParityTolerance(double Absolute, double Relative, double PerTerm)
{
    /// <summary>Unit roundoff of float32: half the distance from 1 to the next float, 2⁻²⁴.
    /// </summary>
    public const double Float32UnitRoundoff = 1.0 / (1 << 24);

    /// <summary>Multiplier λ of the probabilistic bound λ·√n·u; see the remarks.</summary>
    public const double ProbabilisticLambda = 8.0;

    /// <summary>Bit-for-bit agreement, for a backend that runs the oracle's own loops.</summary>
    public static ParityTolerance Exact { get; } = new(0.0, 0.0, 0.0);

    /// <summary>
    /// For float32 backends. Relative = 16u (8 ulps): correctly rounded arithmetic needs 1 ulp,
    /// the rest is room for vectorised tanh and exp, which are typically a few ulps off.
    /// PerTerm = 2u: u per operation, doubled because a kernel does a few operations
    /// (multiply, subtract, scale) around each summed term. Absolute = 1e-30: far below any
    /// value that O(1) inputs produce, so it only forgives a denormal flushed to zero.
    /// </summary>
    /// <remarks>A float32 reference written with plain float loops (sequential sums, one-pass
    /// variance, distances expanded as ||a||² + ||b||² − 2⟨a, b⟩) stayed below a quarter of
    /// every allowance when these values were chosen.</remarks>
    public static ParityTolerance Float32 { get; } =
        new(Absolute: 1e-30, Relative: 16 * Float32UnitRoundoff, PerTerm: 2 * Float32UnitRoundoff);

    /// <summary>The allowed |actual − expected| for one element; see the type summary.</summary>
    public double Allowance(double expected, int operations, double scale)
    {
        double effective = Math.Min(operations, ProbabilisticLambda * Math.Sqrt(operations));
        return Absolute + Relative * Math.Abs(expected) + PerTerm * effective * scale;
    }
}
