namespace Mmae.Kernels;

/// <summary>
/// The compute contract between the engine and a device. Every loop the engine runs goes
/// through these methods, so autograd and layers stay device-agnostic.
/// </summary>
/// <remarks>
/// Matrices are row-major and dense. Shape arguments are trusted: the engine validates shapes
/// once at its public boundary, and kernels only <c>Debug.Assert</c>. Scalars that a training
/// step produces (losses) are written into one-element buffers, so a device backend never has
/// to copy to the host inside a step. A backward kernel named <c>...Backward</c> writes its
/// input gradient (it does not accumulate) unless its parameter list says otherwise.
/// </remarks>
public interface IBackend
{
    /// <summary>Short name shown in logs, for example <c>cpu-simd</c>.</summary>
    string Name { get; }

    /// <summary>Element precision of this backend's buffers: 4 (float) or 8 (double).</summary>
    int ElementSize { get; }

    /// <summary>Allocates a zero-filled buffer of <paramref name="length"/> elements.</summary>
    DeviceBuffer Allocate(int length);

    /// <summary>Copies host data into a new buffer.</summary>
    DeviceBuffer Upload(ReadOnlySpan<float> data);

    /// <summary>Copies host data into a new buffer (rounded to float on float backends).</summary>
    DeviceBuffer Upload(ReadOnlySpan<double> data);

    /// <summary>dst = src, element for element: host data into an existing buffer.</summary>
    /// <remarks>The default uploads a new buffer and copies it; backends override it to
    /// write in place.</remarks>
    void Write(ReadOnlySpan<float> src, DeviceBuffer dst) => Copy(Upload(src), dst);

    /// <summary>dst = src, element for element.</summary>
    void Download(DeviceBuffer src, Span<float> dst);

    /// <summary>dst = src, element for element.</summary>
    void Download(DeviceBuffer src, Span<double> dst);

    /// <summary>dst[i] = value</summary>
    void Fill(DeviceBuffer dst, float value);

    /// <summary>dst[i] = src[i]</summary>
    void Copy(DeviceBuffer src, DeviceBuffer dst);

    /// <summary>dst[i] = a[i] + b[i]</summary>
    void Add(DeviceBuffer a, DeviceBuffer b, DeviceBuffer dst);

    /// <summary>y[i] += alpha * x[i]</summary>
    void Axpy(float alpha, DeviceBuffer x, DeviceBuffer y);

    /// <summary>y[i] += s * alpha * x[i], where s = scale[0] is a one-element device buffer.</summary>
    void AxpyScaled(DeviceBuffer scale, float alpha, DeviceBuffer x, DeviceBuffer y);

    /// <summary>dst[i] = max(x[i], 0)</summary>
    void Relu(DeviceBuffer x, DeviceBuffer dst);

    /// <summary>dx[i] = y[i] &gt; 0 ? dy[i] : 0, with y the ReLU output.</summary>
    void ReluBackward(DeviceBuffer y, DeviceBuffer dy, DeviceBuffer dx);

    /// <summary>dst[i] = tanh(x[i])</summary>
    void Tanh(DeviceBuffer x, DeviceBuffer dst);

    /// <summary>dx[i] = dy[i] * (1 - y[i]²), with y the Tanh output.</summary>
    void TanhBackward(DeviceBuffer y, DeviceBuffer dy, DeviceBuffer dx);

    /// <summary>
    /// C = alpha · op(A) · op(B) + beta · C, where op(X) is X or Xᵀ. op(A) is m×k, op(B) is k×n,
    /// C is m×n; A is stored m×k (k×m when transposed), B is k×n (n×k when transposed).
    /// </summary>
    /// <remarks>With beta = 0, C's old contents are ignored, even NaN.</remarks>
    void Gemm(
        bool transA,
        bool transB,
        int m,
        int n,
        int k,
        float alpha,
        DeviceBuffer a,
        DeviceBuffer b,
        float beta,
        DeviceBuffer c);

    /// <summary>x[i, j] += bias[j] for an x of rows×cols, in place.</summary>
    void AddRowVector(DeviceBuffer x, DeviceBuffer bias, int rows, int cols);

    /// <summary>dst[j] (+)= Σ_i x[i, j] over a rows×cols matrix; adds when accumulate is set.</summary>
    void ColumnSums(DeviceBuffer x, int rows, int cols, DeviceBuffer dst, bool accumulate);

    /// <summary>
    /// Training-mode batch normalisation over the rows of x (rows×cols): per column j,
    /// y = gamma·(x − mean)/sqrt(var + eps) + beta with the biased batch variance. Saves mean
    /// and 1/sqrt(var + eps) for the backward pass and updates the running statistics as
    /// PyTorch does: running = (1 − momentum)·running + momentum·batch, with the unbiased
    /// variance (divided by rows − 1).
    /// </summary>
    void BatchNormForwardTrain(
        DeviceBuffer x,
        int rows,
        int cols,
        DeviceBuffer gamma,
        DeviceBuffer beta,
        DeviceBuffer runningMean,
        DeviceBuffer runningVar,
        float momentum,
        float eps,
        DeviceBuffer y,
        DeviceBuffer saveMean,
        DeviceBuffer saveInvStd);

    /// <summary>Evaluation-mode batch normalisation with the running statistics.</summary>
    void BatchNormForwardEval(
        DeviceBuffer x,
        int rows,
        int cols,
        DeviceBuffer gamma,
        DeviceBuffer beta,
        DeviceBuffer runningMean,
        DeviceBuffer runningVar,
        float eps,
        DeviceBuffer y);

    /// <summary>
    /// Backward of training-mode batch normalisation. Writes dx; adds into dGamma and dBeta.
    /// With x̂ = (x − mean)·invStd: dx = gamma·invStd·(dy − mean(dy) − x̂·mean(dy·x̂)).
    /// </summary>
    void BatchNormBackward(
        DeviceBuffer x,
        DeviceBuffer dy,
        int rows,
        int cols,
        DeviceBuffer gamma,
        DeviceBuffer saveMean,
        DeviceBuffer saveInvStd,
        DeviceBuffer dx,
        DeviceBuffer dGamma,
        DeviceBuffer dBeta);

    /// <summary>loss[0] = mean((a[i] − b[i])²) over n elements.</summary>
    void MseForward(DeviceBuffer a, DeviceBuffer b, DeviceBuffer loss);

    /// <summary>da[i] = dLoss[0] · 2·(a[i] − b[i]) / n.</summary>
    void MseBackward(DeviceBuffer a, DeviceBuffer b, DeviceBuffer dLoss, DeviceBuffer da);

    /// <summary>d[i, j] = ||x_i − x_j||² for the p rows of x (p×dim); d is p×p.</summary>
    void PairwiseSquaredDistances(DeviceBuffer x, int p, int dim, DeviceBuffer d);

    /// <summary>
    /// Backward of <see cref="PairwiseSquaredDistances"/>:
    /// dx_i = 2 Σ_j (dD_ij + dD_ji)(x_i − x_j).
    /// </summary>
    void PairwiseSquaredDistancesBackward(
        DeviceBuffer x,
        DeviceBuffer dD,
        int p,
        int dim,
        DeviceBuffer dx);

    /// <summary>y = x / ||x||_F and norm[0] = ||x||_F; y = 0 when the norm is 0.</summary>
    void FrobeniusNormalize(DeviceBuffer x, DeviceBuffer y, DeviceBuffer norm);

    /// <summary>dx = (dy − y·⟨dy, y⟩) / ||x||_F, and dx = 0 when the norm is 0.</summary>
    void FrobeniusNormalizeBackward(DeviceBuffer y, DeviceBuffer dy, DeviceBuffer norm, DeviceBuffer dx);

    /// <summary>
    /// Manifold-matching loss of latent codes z (p×m) against reference rows e (p×l):
    /// loss[0] = (1/p²)·||D̃^E − D̃^Z||²_F with D the squared pairwise distances and
    /// D̃ = D/||D||_F.
    /// </summary>
    void MatchLossForward(DeviceBuffer z, DeviceBuffer e, int p, int m, int l, DeviceBuffer loss);

    /// <summary>dz = dLoss[0] · ∂L_mm/∂z; the reference e receives no gradient.</summary>
    /// <remarks>A backend may reuse what the immediately preceding
    /// <see cref="MatchLossForward"/> computed on the same buffers, so z and e must not
    /// change between the two calls (autograd never changes an op's inputs).</remarks>
    void MatchLossBackward(
        DeviceBuffer z,
        DeviceBuffer e,
        int p,
        int m,
        int l,
        DeviceBuffer dLoss,
        DeviceBuffer dz);

    /// <summary>
    /// The matching loss on plain (non-squared) Euclidean distances: as
    /// <see cref="MatchLossForward"/> with D_ij = ||z_i − z_j|| and D_ij = ||e_i − e_j||.
    /// </summary>
    /// <remarks>
    /// No expansion into Gram matrices exists for plain distances, so backends compute
    /// distances in tiles that are reduced and discarded: O(p²·(m + l)) time, O(p·(m + l))
    /// memory, never a p×p matrix.
    /// </remarks>
    void EuclideanMatchLossForward(DeviceBuffer z, DeviceBuffer e, int p, int m, int l, DeviceBuffer loss);

    /// <summary>
    /// dz = dLoss[0] · ∂L/∂z for <see cref="EuclideanMatchLossForward"/>. A pair at distance
    /// 0 contributes no gradient (the subgradient 0 of ||·|| at the origin).
    /// </summary>
    /// <remarks>As for <see cref="MatchLossBackward"/>, a backend may reuse what the immediately
    /// preceding forward pass on the same buffers computed.</remarks>
    void EuclideanMatchLossBackward(
        DeviceBuffer z,
        DeviceBuffer e,
        int p,
        int m,
        int l,
        DeviceBuffer dLoss,
        DeviceBuffer dz);

    /// <summary>
    /// One Adam update, in place: m = β1·m + (1−β1)·g, v = β2·v + (1−β2)·g²,
    /// param −= lr·(m/c1) / (sqrt(v/c2) + eps), with c1 = 1 − β1^t and c2 = 1 − β2^t.
    /// </summary>
    void AdamStep(
        DeviceBuffer param,
        DeviceBuffer grad,
        DeviceBuffer m,
        DeviceBuffer v,
        float learningRate,
        float beta1,
        float beta2,
        float eps,
        float biasCorrection1,
        float biasCorrection2);

    // ---- VAE: reparameterisation, KL divergence and binary cross-entropy ----
    // mu, logVar, eps, z: (rows, m) with n = rows·m elements; a, x: (rows, d) decoder pre-Tanh
    // activations and targets in [−1, 1]. Losses are per-sample sums averaged over the rows.

    /// <summary>z[i] = mu[i] + exp(½·logVar[i])·eps[i]</summary>
    void Reparameterize(DeviceBuffer mu, DeviceBuffer logVar, DeviceBuffer eps, DeviceBuffer z);

    /// <summary>dLogVar[i] = ½·dz[i]·eps[i]·exp(½·logVar[i]); the gradient of mu is dz itself.
    /// </summary>
    void ReparameterizeBackward(
        DeviceBuffer logVar,
        DeviceBuffer eps,
        DeviceBuffer dz,
        DeviceBuffer dLogVar);

    /// <summary>
    /// KL divergence of N(mu, exp(logVar)) from N(0, I), averaged over rows:
    /// loss[0] = −1/(2·rows)·Σ_i (1 + logVar[i] − mu[i]² − exp(logVar[i])).
    /// </summary>
    void KlDivergenceForward(DeviceBuffer mu, DeviceBuffer logVar, int rows, DeviceBuffer loss);

    /// <summary>
    /// dMu[i] = dLoss[0]·mu[i]/rows and dLogVar[i] = dLoss[0]·(exp(logVar[i]) − 1)/(2·rows).
    /// </summary>
    void KlDivergenceBackward(
        DeviceBuffer mu,
        DeviceBuffer logVar,
        int rows,
        DeviceBuffer dLoss,
        DeviceBuffer dMu,
        DeviceBuffer dLogVar);

    /// <summary>
    /// Binary cross-entropy of q = (1 + tanh a)/2 against t = (1 + x)/2, summed and averaged
    /// over rows, in its logit form (q = σ(2a)):
    /// loss[0] = 1/rows·Σ_i softplus(2a_i) − (1 + x_i)·a_i.
    /// </summary>
    void BinaryCrossEntropyTanhForward(DeviceBuffer a, DeviceBuffer x, int rows, DeviceBuffer loss);

    /// <summary>da[i] = dLoss[0]·(tanh(a[i]) − x[i])/rows; the target receives no gradient.
    /// </summary>
    void BinaryCrossEntropyTanhBackward(
        DeviceBuffer a,
        DeviceBuffer x,
        int rows,
        DeviceBuffer dLoss,
        DeviceBuffer da);
    // ---- Convolution layers: conv and transposed conv (im2col lowering onto Gemm), per-channel
    // bias, BatchNorm2d, LeakyReLU and the dropout mask. NCHW tensors; spatial = H·W. ----

    /// <summary>
    /// cols = im2col(x): x (N, C, H, W) into the K×L column matrix described on
    /// <see cref="ConvGeometry"/>, zeros where a window covers padding.
    /// </summary>
    void Im2Col(DeviceBuffer x, ConvGeometry g, DeviceBuffer cols);

    /// <summary>
    /// x = col2im(cols), the adjoint of <see cref="Im2Col"/>: every column-matrix entry is added
    /// into the input element it was read from; x (N, C, H, W) is overwritten, not accumulated.
    /// </summary>
    void Col2Im(DeviceBuffer cols, ConvGeometry g, DeviceBuffer x);

    /// <summary>dst[j, i, :] = src[i, j, :] for src (rows, cols, inner), dst (cols, rows, inner).
    /// </summary>
    void SwapLeadingAxes(DeviceBuffer src, int rows, int cols, int inner, DeviceBuffer dst);

    /// <summary>x[n, c, q] += bias[c] for x (batch, channels, spatial), in place.</summary>
    void AddChannelBias(DeviceBuffer x, DeviceBuffer bias, int batch, int channels, int spatial);

    /// <summary>dst[c] (+)= Σ_{n,q} x[n, c, q]; adds when accumulate is set.</summary>
    void ChannelSums(DeviceBuffer x, int batch, int channels, int spatial, DeviceBuffer dst, bool accumulate);

    /// <summary>
    /// Training-mode BatchNorm2d: as <see cref="BatchNormForwardTrain"/> with the statistics of
    /// channel c taken over all batch·spatial elements x[n, c, q] of x (batch, channels, spatial).
    /// </summary>
    void BatchNorm2dForwardTrain(
        DeviceBuffer x,
        int batch,
        int channels,
        int spatial,
        DeviceBuffer gamma,
        DeviceBuffer beta,
        DeviceBuffer runningMean,
        DeviceBuffer runningVar,
        float momentum,
        float eps,
        DeviceBuffer y,
        DeviceBuffer saveMean,
        DeviceBuffer saveInvStd);

    /// <summary>Evaluation-mode BatchNorm2d with the running statistics of each channel.</summary>
    void BatchNorm2dForwardEval(
        DeviceBuffer x,
        int batch,
        int channels,
        int spatial,
        DeviceBuffer gamma,
        DeviceBuffer beta,
        DeviceBuffer runningMean,
        DeviceBuffer runningVar,
        float eps,
        DeviceBuffer y);

    /// <summary>
    /// Backward of <see cref="BatchNorm2dForwardTrain"/>: the formula of
    /// <see cref="BatchNormBackward"/> with means over each channel's batch·spatial elements.
    /// Writes dx; adds into dGamma and dBeta.
    /// </summary>
    void BatchNorm2dBackward(
        DeviceBuffer x,
        DeviceBuffer dy,
        int batch,
        int channels,
        int spatial,
        DeviceBuffer gamma,
        DeviceBuffer saveMean,
        DeviceBuffer saveInvStd,
        DeviceBuffer dx,
        DeviceBuffer dGamma,
        DeviceBuffer dBeta);

    /// <summary>dst[i] = x[i] &gt; 0 ? x[i] : slope·x[i]</summary>
    void LeakyRelu(DeviceBuffer x, float slope, DeviceBuffer dst);

    /// <summary>dx[i] = x[i] &gt; 0 ? dy[i] : slope·dy[i], with x the LeakyReLU input.</summary>
    void LeakyReluBackward(DeviceBuffer x, DeviceBuffer dy, float slope, DeviceBuffer dx);

    /// <summary>dst[i] = a[i]·b[i]</summary>
    void Multiply(DeviceBuffer a, DeviceBuffer b, DeviceBuffer dst);
}
